"""Cox proportional-hazards models of the configured covariates (Firth when monotone)."""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.config import StudyConfig, SubgroupSettings
from rechallenge.stats.cox import MonotoneLikelihoodWarning, fit_cox


def cox_section(
    survival: pd.DataFrame, included: pd.DataFrame, config: StudyConfig
) -> dict[str, Any]:
    """Univariable Cox of each configured covariate (and the multivariable model) per endpoint."""
    section: dict[str, Any] = {}
    subgroups = {s.name: s for s in config.statistics.subgroups}
    covariates = included[["patient_id", *_cox_columns(config, included)]]
    for endpoint in ("PFSR", "OS"):
        data = (
            survival[survival["paramcd"] == endpoint]
            .drop(columns=[c for c in subgroups if c in survival], errors="ignore")
            .merge(covariates, on="patient_id")
        )
        rows: list[dict[str, Any]] = []
        for name in config.statistics.cox_univariable:
            rows += cox_rows(data, [name], subgroups, config, "univariable")
        if config.statistics.cox_multivariable:
            rows += cox_rows(
                data, config.statistics.cox_multivariable, subgroups, config, "multivariable"
            )
        section[endpoint] = rows
    return section


def _cox_columns(config: StudyConfig, included: pd.DataFrame) -> list[str]:
    wanted = [*config.statistics.cox_univariable, *config.statistics.cox_multivariable]
    return [c for c in dict.fromkeys(wanted) if c in included]


def cox_rows(
    data: pd.DataFrame,
    names: list[str],
    subgroups: Mapping[str, SubgroupSettings],
    config: StudyConfig,
    model: str,
) -> list[dict[str, Any]]:
    """Fit one Cox model; one row per term with HR, CI, p, ties and whether Firth was used."""
    present = [n for n in names if n in data]
    if len(present) != len(names):
        return [{"term": n, "model": model, "error": "covariate not found"} for n in names]
    part = data.dropna(subset=present)
    X = pd.DataFrame(
        {n: part[n] if _is_numeric(part[n]) else part[n].astype(object) for n in present}
    )
    reference = {n: REFERENCE_LEVELS[n] for n in present if n in REFERENCE_LEVELS}
    reference |= {n: subgroups[n].low for n in present if n in subgroups}
    if len(part) < 2 or any(X[n].nunique() < 2 for n in present):  # nothing to compare
        return [
            {"term": n, "model": model, "error": "fewer than two levels with data"} for n in present
        ]
    time = part["aval_days"].to_numpy(float)
    event = 1 - part["cnsr"].to_numpy(int)
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        fit = fit_cox(
            time,
            event,
            X,
            ties=config.statistics.cox_ties,
            reference=reference,
            conf_level=1 - config.statistics.alpha,
            concordance=False,  # not reported; it costs more than the fit at large n
        )
    monotone = any(issubclass(w.category, MonotoneLikelihoodWarning) for w in caught)
    lower, upper = fit.hr_ci()
    rows = []
    for i, term in enumerate(fit.terms):
        variable = next((n for n in present if term.startswith(n)), term)
        level = term[len(variable) :] or "per unit"
        sub = subgroups.get(variable)
        rows.append(
            {
                "term": f"{variable}={level}",
                "variable": variable,
                "level": level,
                "reference": reference.get(variable, _reference_level(X[variable], level)),
                "label": sub.label if sub else f"{variable}: {level}",
                "model": model,
                "n": fit.n,
                "events": fit.events,
                "hr": float(fit.hr[i]),
                "lower": float(lower[i]),
                "upper": float(upper[i]),
                "coef": float(fit.coef[i]),
                "se": float(fit.se[i]),
                "z": float(fit.z[i]),
                "p": float(fit.p[i]),
                "ties": fit.ties,
                "firth": False,
                "monotone": monotone,
                "ci_method": "wald",
                "test": "Wald",
            }
        )
    if monotone and config.statistics.firth_on_monotone:
        rows += _firth_rows(time, event, X, reference, config, rows)
    return rows


#: Reference levels of categorical covariates (the usual clinical comparator).
REFERENCE_LEVELS = {"sex": "female", "smoking_status": "never", "histology": "adenocarcinoma"}


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _reference_level(values: pd.Series, level: str) -> str:
    if _is_numeric(values):
        return "per unit increase"
    levels = sorted(str(v) for v in values.dropna().unique())
    return levels[0] if levels else ""


def _firth_rows(
    time: np.ndarray,
    event: np.ndarray,
    X: pd.DataFrame,
    reference: dict[str, str],
    config: StudyConfig,
    ordinary: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Firth's penalised Cox for a model whose ordinary fit shows monotone likelihood."""
    try:
        from rechallenge.stats.firth import fit_firth_cox
    except ImportError:
        return []
    fit = fit_firth_cox(time, event, X, reference=reference, conf_level=1 - config.statistics.alpha)
    out = []
    for row, term in zip(ordinary, fit.to_dict()["terms"], strict=False):
        out.append(
            row
            | {
                "hr": term["hr"],
                "lower": term["hr_lower"],
                "upper": term["hr_upper"],
                "p": term["p"],
                "coef": term["coef"],
                "se": term.get("se"),
                "z": None,
                "firth": True,
                "ci_method": "profile penalised likelihood",
            }
        )
    return out
