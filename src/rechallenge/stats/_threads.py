"""BLAS thread counts chosen for the size of the work, so a fit stays fast on a busy machine.

The survival kernels multiply tall, thin matrices (``n x p`` with small ``p``): matrix-
vector products and ``p x p`` cross products that are limited by memory bandwidth, not
arithmetic. Extra BLAS threads barely help them, and OpenBLAS threads busy-wait: when
another process holds a core, a multi-threaded product waits for a thread that is not
scheduled, and a Cox fit was measured ten times slower (0.95 s instead of 0.098 s).
Such work therefore runs with one BLAS thread; wide designs keep the library's default.

The limit is set with threadpoolctl (one controller per process, about 15 µs per use)
and restored on exit, so the caller's own settings are untouched.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["WIDE_COLUMNS", "blas_threads", "single_blas_thread"]

#: Above this many columns the ``p x p`` products are large enough to use all threads.
WIDE_COLUMNS = 64

F = TypeVar("F", bound=Callable[..., Any])


@functools.lru_cache(maxsize=1)
def _controller() -> Any:
    """The process's threadpoolctl controller (``None`` when threadpoolctl is missing)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def blas_threads(columns: int = 1) -> Iterator[None]:
    """Run the block with one BLAS thread unless the design has more than ``WIDE_COLUMNS``."""
    controller = _controller()
    if controller is None or columns > WIDE_COLUMNS:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


def single_blas_thread(fn: F) -> F:
    """Decorator: ``fn`` runs under :func:`blas_threads` (vector work, one thread)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with blas_threads():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
