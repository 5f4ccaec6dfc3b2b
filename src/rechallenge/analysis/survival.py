"""Time to event: Kaplan-Meier curves, landmark rates, log-rank tests and follow-up."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rechallenge.config import StudyConfig
from rechallenge.derive.endpoints import ENDPOINTS
from rechallenge.stats.km import KaplanMeierResult, kaplan_meier, median_follow_up
from rechallenge.stats.logrank import logrank_test

RISK_STEP_MONTHS = 3.0


def _strata(frame: pd.DataFrame, config: StudyConfig) -> list[tuple[str, pd.DataFrame]]:
    out = [("all", frame)]
    for sub in config.statistics.subgroups:
        for level in (sub.low, sub.high):
            out.append((f"{sub.name}={level}", frame[frame[sub.name] == level]))
    return out


def km_section(survival: pd.DataFrame, config: StudyConfig) -> dict[str, Any]:
    """Kaplan-Meier per endpoint and stratum: median (months) with CI, rates, steps, risk table."""
    dpm = config.endpoints.days_per_month
    horizon = float(survival["aval_days"].max()) / dpm if len(survival) else RISK_STEP_MONTHS
    grid = np.arange(0.0, max(horizon, RISK_STEP_MONTHS) + RISK_STEP_MONTHS, RISK_STEP_MONTHS)
    section: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        data = survival[survival["paramcd"] == endpoint]
        section[endpoint] = {
            name: km_summary(part, config, grid) | {"label": curve_label(endpoint, name, config)}
            for name, part in _strata(data, config)
            if len(part)
        }
        section[endpoint]["days_per_month"] = dpm
    return section


ENDPOINT_LABELS = {"PFS1": "PFS1 (first ICI)", "PFSR": "PFSR (rechallenge)", "OS": "OS"}
#: Subgroup levels as legends print them (others as coded: ``PD-L1 positive``). Kept apart
#: from the label catalogue, whose longer wording (``Positive (TPS ≥ 1%)``) suits tables.
LEVEL_LABELS = {"0-1": "0–1"}


def curve_label(endpoint: str, stratum: str, config: StudyConfig) -> str:
    """How a curve is named in legends: the endpoint, or the subgroup level."""
    if stratum == "all":
        return ENDPOINT_LABELS[endpoint]
    name, level = stratum.split("=", 1)
    titles = {"ecog_group": "ECOG PS", "pdl1": "PD-L1"}
    return f"{titles.get(name, name)} {LEVEL_LABELS.get(level, level)}"


def km_summary(part: pd.DataFrame, config: StudyConfig, grid_months: np.ndarray) -> dict[str, Any]:
    """One curve: times in days go in, months come out (days / days_per_month)."""
    dpm = config.endpoints.days_per_month
    days = part["aval_days"].to_numpy(dtype=float)
    event = 1 - part["cnsr"].to_numpy(dtype=int)
    fit = kaplan_meier(
        days,
        event,
        conf_type=config.statistics.km_conf_type,
        conf_level=1 - config.statistics.alpha,
    )
    median_fit = fit
    if config.statistics.median_ci != config.statistics.km_conf_type:
        median_fit = kaplan_meier(
            days,
            event,
            conf_type=config.statistics.median_ci,
            conf_level=1 - config.statistics.alpha,
        )
    median = median_fit.median
    risk = fit.risk_table(grid_months * dpm)
    return {
        "n": fit.n,
        "events": fit.n_events,
        "median_days": median.estimate,
        "median_months": _months(median.estimate, dpm),
        "lower": _months(median.lower, dpm),
        "upper": _months(median.upper, dpm),
        "ci_method": median.method,
        "conf_type": config.statistics.median_ci,
        "band_conf_type": fit.conf_type,
        "rates": landmark_rates(fit, config.endpoints.landmarks_months, dpm),
        "steps": {
            "time_months": (fit.time / dpm).tolist(),
            "surv": fit.surv.tolist(),
            "lower": fit.lower.tolist(),
            "upper": fit.upper.tolist(),
            "n_risk": fit.n_risk.tolist(),
            "n_event": fit.n_event.tolist(),
            "n_censor": fit.n_censor.tolist(),
        },
        "risk_table": {
            "time_months": grid_months.tolist(),
            "n_risk": risk.n_risk.tolist(),
            "cum_events": risk.cum_events.tolist(),
        },
    }


def landmark_rates(fit: KaplanMeierResult, months: list[float], dpm: float) -> list[dict[str, Any]]:
    """Survival at each landmark (months), as R ``summary(fit, times, extend = TRUE)``.

    1. Up to the curve's last follow-up time the rate is the curve's value there, with its
       pointwise band and the number at risk.
    2. After it, a curve that has reached 0 stays 0 (R's ``extend = TRUE``; the band is
       undefined at S = 0 and given as None): the rate is 0 and estimable.
    3. After the last follow-up of a curve that has not reached 0 nobody is left to
       observe: the rate is not estimable (``surv``, ``lower``, ``upper`` None,
       ``estimable`` False) instead of R's carried-forward value.
    """
    last_time, last_surv = float(fit.time[-1]), float(fit.surv[-1])
    out = []
    for m in months:
        at = fit.survival_at([m * dpm], extend=True)
        estimable = m * dpm <= last_time or last_surv == 0.0
        out.append(
            {
                "time_months": m,
                "surv": float(at.surv[0]) if estimable else None,
                "lower": float(at.lower[0]) if estimable else None,
                "upper": float(at.upper[0]) if estimable else None,
                "n_risk": int(at.n_risk[0]),
                "estimable": estimable,
            }
        )
    return out


def follow_up_section(survival: pd.DataFrame, config: StudyConfig) -> dict[str, Any] | None:
    """Median follow-up for OS (from the rechallenge start) by the reverse Kaplan-Meier method.

    The interval uses the configured median CI rule; None when no patient has OS data.
    """
    data = survival[survival["paramcd"] == "OS"]
    if not len(data):
        return None
    dpm = config.endpoints.days_per_month
    median = median_follow_up(
        data["aval_days"].to_numpy(dtype=float),
        1 - data["cnsr"].to_numpy(dtype=int),
        conf_type=config.statistics.median_ci,
        conf_level=1 - config.statistics.alpha,
    )
    return {
        "endpoint": "OS",
        "method": "reverse_km",
        "n": len(data),
        "median_months": _months(median.estimate, dpm),
        "lower": _months(median.lower, dpm),
        "upper": _months(median.upper, dpm),
        "median_days": median.estimate,
        "ci_method": median.method,
        "conf_type": config.statistics.median_ci,
    }


def _months(days: float, dpm: float) -> float | None:
    return None if days is None or not np.isfinite(days) else float(days) / dpm


def logrank_section(survival: pd.DataFrame, config: StudyConfig) -> dict[str, Any]:
    """Log-rank per endpoint and subgroup variable; patients missing the variable are left out."""
    section: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        data = survival[survival["paramcd"] == endpoint]
        section[endpoint] = {}
        for sub in config.statistics.subgroups:
            part = data.dropna(subset=[sub.name])
            if part[sub.name].nunique() < 2:
                section[endpoint][sub.name] = {"error": "fewer than two groups with data"}
                continue
            result = logrank_test(
                part["aval_days"].to_numpy(float),
                1 - part["cnsr"].to_numpy(int),
                part[sub.name].to_numpy(),
            )
            section[endpoint][sub.name] = {
                "chi2": result.chi2,
                "df": result.df,
                "p": result.p,
                "groups": [str(g) for g in result.groups],
                "n": list(result.n),
                "observed": result.observed.tolist(),
                "expected": result.expected.tolist(),
                "test": result.test,
                "n_missing": int(len(data) - len(part)),
            }
    return section
