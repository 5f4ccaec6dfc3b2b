"""The methods of a run in words, for the report's Methods section and the manuscript.

`methods_text` turns the settings of ``results["methods"]`` into the catalogue's wording
(`rechallenge.labels`), so no setting code reaches a reader; it also names the tests and
estimators every run uses (log-rank, Wald and likelihood-ratio tests, Firth's penalised
likelihood, reverse Kaplan–Meier follow-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rechallenge.labels import Labels

#: settings of results["methods"] that are not methods (or are worded below)
NOT_WORDED = frozenset({"software", "methods_text", "alpha", "days_per_month"})
#: methods every run uses, as (key, catalogue setting, value)
ALWAYS = (
    ("follow_up", "follow_up", "reverse_km"),
    ("logrank_test", "test", "logrank"),
    ("cox_test", "test", "Wald"),
    ("global_test", "test", "LR"),
    ("firth_test", "test", "firth_lr"),
    ("cox_ci", "ci_method", "wald"),
    ("firth_ci", "ci_method", "profile"),
)


def methods_text(methods: Mapping[str, Any], labels: Labels) -> dict[str, str]:
    """Setting -> human wording, e.g. ``"km_ci_method": "log-transformed Greenwood intervals"``.

    1. Every setting of `methods` with a code value is worded by ``labels.method``.
    2. ``alpha`` and ``days_per_month`` are numbers and are written out.
    3. The methods every run uses (`ALWAYS`) are added under their own keys.
    """
    out: dict[str, str] = {}
    for setting, value in methods.items():
        if setting in NOT_WORDED or isinstance(value, (dict, list)) or value is None:
            continue
        out[setting] = labels.method(setting, value)
    if "alpha" in methods:
        level = 100 * (1 - float(methods["alpha"]))
        out["alpha"] = (
            f"two-sided significance level {float(methods['alpha']):g}; "
            f"{level:g}% confidence intervals"
        )
    if "days_per_month" in methods:
        out["days_per_month"] = f"1 month = {float(methods['days_per_month']):g} days"
    for key, setting, value in ALWAYS:
        out[key] = labels.method(setting, value)
    return out
