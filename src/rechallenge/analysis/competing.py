"""Competing risks: progression, with death without progression as a competing event.

``results["competing_risks"]`` (only when ``statistics.competing_risks`` is set and
enabled) holds, for one PFS endpoint (PFSR by default):

1. Status per patient from the endpoint rows: 0 = censored (``cnsr`` 1), 1 = progression
   (the event was a progression), 2 = death without progression (the event was a death).
   Times in whole days go into the estimator; months (days / days_per_month) come out, as
   in the Kaplan–Meier section.
2. The Aalen–Johansen cumulative incidence function (CIF) of each cause with cmprsk's
   variance (`rechallenge.stats.competing.cumulative_incidence`, identical to R
   ``cmprsk::cuminc``), overall and by each level of every configured subgroup.
3. The CIF at ``times_months`` with a pointwise (1 - alpha) CI on the log(-log) scale
   (``F^exp(±z se / (F log F))``, Pintilie 2006, as R users add it to ``cuminc``'s
   variance); at F = 0 or 1 the interval is undefined (None); after a curve's last
   follow-up the value is not estimable (None, ``estimable`` False), as ``timepoints``.
4. Gray's test (rho = 0) of each cause between the levels of each subgroup; patients
   missing the subgroup are left out (``n_missing``). A cause without events in the
   compared patients has no test (``stat``/``p`` None, ``note`` "no events").
5. A number-at-risk table on the Kaplan–Meier section's grid (every 3 months).

Every curve starts at (0, 0); a cause without any event is a flat curve at 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats

from rechallenge.analysis.competing_settings import CompetingRiskSettings
from rechallenge.analysis.survival import RISK_STEP_MONTHS
from rechallenge.config import StudyConfig
from rechallenge.stats.competing import CIFCurve, cumulative_incidence

#: (status code, cause key): the keys name the causes in the results and the label catalogue
CAUSES: Final[tuple[tuple[int, str], ...]] = ((1, "progression"), (2, "death"))
METHOD: Final = "aalen_johansen"
CI_METHOD: Final = "log-log"
TEST: Final = "gray"


def competing_status(rows: pd.DataFrame) -> np.ndarray:
    """0 censored, 1 progression, 2 death without progression, from endpoint rows (step 1)."""
    censored = rows["cnsr"].to_numpy(dtype=int) == 1
    what = rows["evntdesc"].astype(object).to_numpy()
    death = np.array([w == "death" for w in what], dtype=bool)
    return np.where(censored, 0, np.where(death, 2, 1)).astype(int)


def log_log_ci(cif: float | None, variance: float | None, z: float) -> tuple[Any, Any]:
    """Pointwise CI of a CIF value on the log(-log) scale (step 3); None where undefined."""
    if cif is None or variance is None or not 0.0 < cif < 1.0 or variance < 0:
        return None, None
    se = math.sqrt(variance) / (cif * -math.log(cif))
    return cif ** math.exp(z * se), cif ** math.exp(-z * se)


def _flat(group: Any, cause: int, last_day: float) -> CIFCurve:
    zero = np.zeros(2)
    return CIFCurve(group, cause, np.array([0.0, last_day]), zero, zero.copy())


def _curves_by_cause(
    days: np.ndarray, status: np.ndarray, group: np.ndarray | None
) -> tuple[dict[tuple[Any, int], CIFCurve], dict[int, dict[str, Any]]]:
    """CIF curves keyed by (group, cause), flat 0 for a cause without events, and Gray's tests."""
    groups = [1] if group is None else sorted(set(group.tolist()), key=str)
    curves: dict[tuple[Any, int], CIFCurve] = {}
    tests: dict[int, dict[str, Any]] = {}
    if (status != 0).any():
        fit = cumulative_incidence(days, status, group=group)
        curves = {(c.group, int(c.cause)): c for c in fit.curves}
        tests = {int(g.cause): g.to_dict() for g in fit.gray}
    for g in groups:
        rows = days if group is None else days[group == g]
        for code, _ in CAUSES:
            curves.setdefault((g, code), _flat(g, code, float(rows.max())))
    for code, _ in CAUSES:
        if code not in tests and group is not None and len(groups) > 1:
            tests[code] = {"stat": None, "df": len(groups) - 1, "p": None, "note": "no events"}
    return curves, tests


def _curve_block(
    curve: CIFCurve, settings: CompetingRiskSettings, dpm: float, z: float, days: np.ndarray
) -> dict[str, Any]:
    """One cause in one group: the step function in months and the values at the times."""
    est, var = curve.at([t * dpm for t in settings.times_months])
    at_times = []
    for t, e, v in zip(settings.times_months, est, var, strict=True):
        ok = bool(np.isfinite(e))
        lower, upper = log_log_ci(float(e), float(v), z) if ok else (None, None)
        at_times.append(
            {
                "time_months": t,
                "cif": float(e) if ok else None,
                "variance": float(v) if ok else None,
                "lower": lower,
                "upper": upper,
                "n_risk": int((days >= t * dpm).sum()),
                "estimable": ok,
            }
        )
    return {
        "steps": {
            "time_months": (curve.time / dpm).tolist(),
            "cif": curve.cif.tolist(),
            "variance": curve.variance.tolist(),
        },
        "at_times": at_times,
    }


def _group_block(
    days: np.ndarray,
    status: np.ndarray,
    curves: Mapping[tuple[Any, int], CIFCurve],
    key: Any,
    settings: CompetingRiskSettings,
    dpm: float,
    grid: np.ndarray,
    z: float,
) -> dict[str, Any]:
    """n, events per cause, curves per cause and the risk table of one group of patients."""
    return {
        "n": len(days),
        "events": {name: int((status == code).sum()) for code, name in CAUSES},
        "n_censored": int((status == 0).sum()),
        "curves": {
            name: _curve_block(curves[(key, code)], settings, dpm, z, days) for code, name in CAUSES
        },
        "risk_table": {
            "time_months": grid.tolist(),
            "n_risk": [int((days >= t * dpm).sum()) for t in grid],
            "cum_events": {
                name: [int(((status == code) & (days <= t * dpm)).sum()) for t in grid]
                for code, name in CAUSES
            },
        },
    }


def _subgroup_block(
    data: pd.DataFrame,
    name: str,
    levels: Sequence[str],
    settings: CompetingRiskSettings,
    scale: tuple[float, np.ndarray, float],
) -> dict[str, Any]:
    """Curves per level of one subgroup and Gray's test per cause.

    ``scale``: days per month, the risk-table grid (months) and the normal quantile.
    """
    dpm, grid, z = scale
    part = data.dropna(subset=[name])
    present = [lv for lv in levels if (part[name] == lv).any()]
    out: dict[str, Any] = {"n_missing": int(len(data) - len(part)), "levels": {}}
    if len(present) < 2:
        out["error"] = "fewer than two groups with data"
        return out
    days = part["aval_days"].to_numpy(dtype=float)
    status = competing_status(part)
    group = part[name].astype(str).to_numpy(dtype=object)
    curves, tests = _curves_by_cause(days, status, group)
    for lv in present:
        rows = group == lv
        out["levels"][lv] = _group_block(
            days[rows], status[rows], curves, lv, settings, dpm, grid, z
        )
    out["gray"] = [
        {"cause": cause, **{k: v for k, v in tests[code].items() if k != "cause"}}
        for code, cause in CAUSES
    ]
    return out


def competing_section(survival: pd.DataFrame, config: StudyConfig) -> dict[str, Any] | None:
    """The competing-risks section, or None when it is not configured or not enabled."""
    settings = config.statistics.competing_risks
    if settings is None or not settings.enabled:
        return None
    dpm = config.endpoints.days_per_month
    data = survival[survival["paramcd"] == settings.endpoint]
    section: dict[str, Any] = {
        "method": METHOD,
        "ci_method": CI_METHOD,
        "gray_rho": 0.0,
        "endpoint": settings.endpoint,
        "causes": [{"code": code, "cause": name} for code, name in CAUSES],
        "times_months": list(settings.times_months),
        "days_per_month": dpm,
        "n": len(data),
    }
    if not len(data):
        section["error"] = "no patients with data on the endpoint"
        return section
    horizon = float(data["aval_days"].max()) / dpm
    grid = np.arange(0.0, max(horizon, RISK_STEP_MONTHS) + RISK_STEP_MONTHS, RISK_STEP_MONTHS)
    days = data["aval_days"].to_numpy(dtype=float)
    status = competing_status(data)
    z = float(stats.norm.ppf(1 - config.statistics.alpha / 2))
    curves, _ = _curves_by_cause(days, status, None)
    section["overall"] = _group_block(days, status, curves, 1, settings, dpm, grid, z)
    section["events"] = section["overall"]["events"]
    if settings.by_subgroups:
        section["subgroups"] = {
            sub.name: _subgroup_block(data, sub.name, (sub.low, sub.high), settings, (dpm, grid, z))
            for sub in config.statistics.subgroups
        }
    return section
