"""Exact percentages and JSON-safe numbers shared by the analyses and the outputs."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any


def percent(count: int, total: int, digits: int = 1) -> float | None:
    """100·count/total rounded half-up from the exact fraction (1/13 -> 7.7, 6/13 -> 46.2)."""
    if total <= 0:
        return None
    exact = Fraction(100 * count, total)
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return float(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


_PLAIN = frozenset({str, int, bool, type(None)})  # returned as they are


def _is_plain(value: Any) -> bool:
    kind = type(value)
    return kind in _PLAIN or (kind is float and math.isfinite(value))


def clean(value: Any) -> Any:
    """Recursively replace NaN/inf by None and numpy scalars by Python numbers."""
    if _is_plain(value):
        return value
    if isinstance(value, dict):
        return {str(k): v if _is_plain(v) else clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if _is_plain(v) else clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
