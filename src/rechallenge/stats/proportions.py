"""Confidence intervals for a binomial proportion (ORR, DCR), each naming its method.

Public API:

- :func:`clopper_pearson` — exact interval, as R ``binom.test(x, n)$conf.int``.
- :func:`wilson` — score interval, as R ``prop.test(x, n, correct = FALSE)$conf.int``.
- :class:`ProportionCI` — immutable result with ``to_dict()``.

References:
    Clopper CJ, Pearson ES (1934) Biometrika 26:404–413.
    Wilson EB (1927) JASA 22:209–212. Newcombe RG (1998) Stat Med 17:857–872.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy.stats import beta, norm

__all__ = ["ProportionCI", "clopper_pearson", "wilson"]


@dataclass(frozen=True)
class ProportionCI:
    """A proportion ``x / n`` with a two-sided confidence interval and its method name."""

    x: int
    n: int
    estimate: float
    lower: float
    upper: float
    conf_level: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def _check(x: int, n: int, conf_level: float) -> None:
    if isinstance(x, bool) or isinstance(n, bool) or int(x) != x or int(n) != n:
        raise ValueError(f"x and n must be whole numbers, got x={x!r}, n={n!r}")
    if n < 1 or x < 0 or x > n:
        raise ValueError(f"need 0 <= x <= n and n >= 1, got x={x}, n={n}")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")


def clopper_pearson(x: int, n: int, *, conf_level: float = 0.95) -> ProportionCI:
    """Exact (Clopper–Pearson) interval.

    1. ``alpha = 1 - conf_level``.
    2. lower = ``Beta.ppf(alpha/2; x, n - x + 1)``, 0 when ``x = 0``.
    3. upper = ``Beta.ppf(1 - alpha/2; x + 1, n - x)``, 1 when ``x = n``.
    """
    _check(x, n, conf_level)
    x, n = int(x), int(n)
    a = 1.0 - conf_level
    lower = 0.0 if x == 0 else float(beta.ppf(a / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(beta.ppf(1 - a / 2, x + 1, n - x))
    return ProportionCI(x, n, x / n, lower, upper, conf_level, "Clopper-Pearson exact")


def wilson(x: int, n: int, *, conf_level: float = 0.95) -> ProportionCI:
    """Wilson score interval without continuity correction (R ``prop.test(correct=FALSE)``).

    With ``p = x/n`` and ``z`` the normal quantile:
    ``(p + z^2/(2n) ± z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)``, limited to [0, 1].
    """
    _check(x, n, conf_level)
    x, n = int(x), int(n)
    z = float(norm.ppf(1 - (1 - conf_level) / 2))
    p = x / n
    z22n = z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z22n / (2 * n))
    lower = max(0.0, (p + z22n - half) / (1 + 2 * z22n))
    upper = min(1.0, (p + z22n + half) / (1 + 2 * z22n))
    return ProportionCI(
        x, n, p, lower, upper, conf_level, "Wilson score (no continuity correction)"
    )
