"""Two runs side by side: what changed in the configuration and which numbers moved.

Both are flattened to dotted paths (``statistics.median_ci``; ``km.PFSR.all.median_months``
style paths of results.json, list items by index or by their ``endpoint``/``stratum``/
``variable``/``name`` keys when they have them) and compared leaf by leaf. The run's record
of itself (manifest, timings, versions) is left out of the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

SKIPPED = frozenset({"manifest", "timings", "schema_version", "warnings", "imputations"})
ITEM_KEYS = ("endpoint", "stratum", "group", "variable", "term", "level", "criterion", "name")


@dataclass(frozen=True)
class Change:
    """One leaf that differs between run A and run B."""

    path: str
    a: Any
    b: Any

    @property
    def delta(self) -> float | None:
        """B - A for numbers, else None."""
        if _is_number(self.a) and _is_number(self.b):
            return float(self.b) - float(self.a)
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _item_name(index: int, item: Any) -> str:
    if isinstance(item, dict) and _is_number(item.get("time_months")):
        return f"{item['time_months']:g} months"
    if isinstance(item, dict):
        parts = [str(item[k]) for k in ITEM_KEYS if isinstance(item.get(k), str | int)]
        if parts:
            return "/".join(parts)
    return str(index)


def flatten(value: Any, prefix: str = "", skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Leaves of a nested mapping by dotted path."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if not prefix and key in skip:
                continue
            out.update(flatten(item, f"{prefix}{key}.", skip))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{_item_name(index, item)}].", skip))
    else:
        out[prefix.rstrip(".")] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def diff(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Every path whose value differs (or exists on one side only), in path order."""
    keys = sorted(set(a) | set(b))
    return [Change(k, a.get(k), b.get(k)) for k in keys if not _same(a.get(k), b.get(k))]


def config_changes(yaml_a: str, yaml_b: str) -> list[Change]:
    """What changed in the configuration."""
    return diff(flatten(yaml.safe_load(yaml_a) or {}), flatten(yaml.safe_load(yaml_b) or {}))


def number_changes(results_a: dict[str, Any], results_b: dict[str, Any]) -> list[Change]:
    """Which numbers (and counts) moved between the two runs' results."""
    flat_a, flat_b = flatten(results_a, skip=SKIPPED), flatten(results_b, skip=SKIPPED)
    return [c for c in diff(flat_a, flat_b) if _is_number(c.a) or _is_number(c.b)]
