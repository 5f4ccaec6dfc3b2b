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


def clean(value: Any) -> Any:
    """Recursively replace NaN/inf by None and numpy scalars by Python numbers."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
