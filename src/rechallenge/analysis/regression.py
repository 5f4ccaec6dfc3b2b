"""Cox proportional-hazards models of the configured covariates (Firth when monotone).

Each model gives exactly one row per term, in display order: the configured variables in
their order, a factor's reference level first as its own row (no estimate), then its other
levels. Algorithm of one model (`fit_model`):

1. Keep the rows with every covariate present; refuse a covariate with fewer than two
   levels with data (an error row instead of a fit).
2. Ordinary Cox (the configured ties). A coefficient the fit reports as diverging
   (R's "Loglik converged before variable ...") makes the model *monotone*.
3. Monotone and `statistics.firth_on_monotone`: Firth's penalised Cox (Breslow ties,
   profile penalised-likelihood CI, penalised likelihood-ratio p). Its rows replace the
   ordinary rows of the whole model. Without Firth (switched off or failed), a diverging
   term has no estimate (`estimable: false`); the others keep their ordinary values.
4. A factor with three or more levels gets a global p: the likelihood-ratio test of the
   whole variable (univariable: the model's LR test, R `anova(coxph(...))`; multivariable:
   the fit without the variable on the same rows, R `drop1(fit, test = "Chisq")`). For a
   Firth model it is the penalised LR test (univariable: the model's; multivariable: the
   variable's coefficients held at 0 in the full penalised model, R `coxphftest`).
5. Events per parameter: events / number of model coefficients; below 10 is flagged.
"""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rechallenge.config import StudyConfig, SubgroupSettings
from rechallenge.labels import Labels
from rechallenge.stats.cox import CoxResult, MonotoneLikelihoodWarning, fit_cox
from rechallenge.stats.firth import FirthCoxResult
from rechallenge.stats.firth_test import firth_lr_test

#: Reference levels of categorical covariates (the usual clinical comparator).
REFERENCE_LEVELS = {"sex": "female", "smoking_status": "never", "histology": "adenocarcinoma"}
#: Fewer events per model parameter than this is flagged (`epv_low`).
EPV_THRESHOLD = 10.0
NUMERIC_LEVEL = "per unit"
COX_ENDPOINTS = ("PFSR", "OS")  # PFS1 precedes the rechallenge: not modelled


@dataclass(frozen=True)
class FittedModel:
    """One model's rows and its `cox_models` entry (None when it was not fitted)."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any] | None


def cox_section(
    survival: pd.DataFrame, included: pd.DataFrame, config: StudyConfig, labels: Labels
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Univariable Cox of each configured covariate (and the multivariable model) per endpoint.

    Returns ``(results["cox"], results["cox_models"])``.
    """
    cox: dict[str, Any] = {}
    models: dict[str, Any] = {}
    subgroups = {s.name: s for s in config.statistics.subgroups}
    covariates = included[["patient_id", *_cox_columns(config, included)]]
    for endpoint in COX_ENDPOINTS:
        data = (
            survival[survival["paramcd"] == endpoint]
            .drop(columns=[c for c in subgroups if c in survival], errors="ignore")
            .merge(covariates, on="patient_id")
        )
        fitted = [
            fit_model(data, [name], subgroups, config, "univariable", labels)
            for name in config.statistics.cox_univariable
        ]
        if config.statistics.cox_multivariable:
            fitted.append(
                fit_model(
                    data,
                    list(config.statistics.cox_multivariable),
                    subgroups,
                    config,
                    "multivariable",
                    labels,
                )
            )
        cox[endpoint] = [row for f in fitted for row in f.rows]
        models[endpoint] = [f.summary for f in fitted if f.summary is not None]
    return cox, models


def _cox_columns(config: StudyConfig, included: pd.DataFrame) -> list[str]:
    wanted = [*config.statistics.cox_univariable, *config.statistics.cox_multivariable]
    return [c for c in dict.fromkeys(wanted) if c in included]


def fit_model(
    data: pd.DataFrame,
    names: list[str],
    subgroups: Mapping[str, SubgroupSettings],
    config: StudyConfig,
    model: str,
    labels: Labels,
) -> FittedModel:
    """Fit one Cox model on `data` (columns aval_days, cnsr and the covariates); steps 1-5."""
    present = [n for n in names if n in data]
    if len(present) != len(names):
        return FittedModel(
            [{"term": n, "model": model, "error": "covariate not found"} for n in names], None
        )
    part = data.dropna(subset=present)
    X = pd.DataFrame(
        {n: part[n] if _is_numeric(part[n]) else part[n].astype(object) for n in present}
    )
    if len(part) < 2 or any(X[n].nunique() < 2 for n in present):  # nothing to compare
        return FittedModel(
            [
                {"term": n, "model": model, "error": "fewer than two levels with data"}
                for n in present
            ],
            None,
        )
    reference = _references(X, present, subgroups)
    time = part["aval_days"].to_numpy(float)
    event = 1 - part["cnsr"].to_numpy(int)
    ordinary, diverging = _ordinary_fit(time, event, X, reference, config)
    firth = None
    if diverging and config.statistics.firth_on_monotone:
        firth = _firth_fit(time, event, X, reference, config)
    parameters = len(ordinary.terms)
    summary = {
        "model": model,
        "variables": present,
        "n": ordinary.n,
        "events": ordinary.events,
        "parameters": parameters,
        "events_per_parameter": ordinary.events / parameters,
        "epv_low": ordinary.events / parameters < EPV_THRESHOLD,
        "firth": firth is not None,
        "monotone": bool(diverging),
    }
    fit = _Fit(ordinary, firth, diverging, summary)
    rows: list[dict[str, Any]] = []
    for variable in present:
        global_p, global_test = _global_test(time, event, X, reference, variable, fit, config)
        common = {
            "variable": variable,
            "variable_label": labels.variable(variable),
            "model": model,
            "global_p": global_p,
            "global_test": global_test,
        }
        if variable in reference:
            rows.append(_reference_row(variable, str(reference[variable]), common, fit, labels))
        rows += [
            _term_row(j, variable, reference, common, fit, labels)
            for j in ordinary.assign[variable]
        ]
    return FittedModel(rows, summary)


@dataclass(frozen=True)
class _Fit:
    ordinary: CoxResult
    firth: FirthCoxResult | None
    diverging: frozenset[str]
    summary: dict[str, Any]

    def shared(self) -> dict[str, Any]:
        """Keys every row of the model carries."""
        firth = self.firth is not None
        return {
            "n": self.ordinary.n,
            "events": self.ordinary.events,
            "ties": "breslow" if firth else self.ordinary.ties,
            "firth": firth,
            "monotone": bool(self.diverging),
            "ci_method": "profile" if firth else "wald",
            "test": "firth_lr" if firth else "Wald",
        }

    def epv(self) -> dict[str, Any]:
        return {
            "events_per_parameter": self.summary["events_per_parameter"],
            "epv_low": self.summary["epv_low"],
        }


EMPTY = {k: None for k in ("hr", "lower", "upper", "coef", "se", "z", "p")}


def _reference_row(
    variable: str, level: str, common: dict[str, Any], fit: _Fit, labels: Labels
) -> dict[str, Any]:
    row = {
        "term": f"{variable}={level}",
        "variable": variable,
        "level": level,
        "reference": level,
        "label": labels.term(variable, level),
        "variable_label": common["variable_label"],
        "level_label": labels.level(variable, level),
        "model": common["model"],
    }
    return _ordered(
        row | fit.shared() | EMPTY | {"is_reference": True, "estimable": True}, common, fit
    )


def _term_row(
    j: int,
    variable: str,
    reference: Mapping[str, Any],
    common: dict[str, Any],
    fit: _Fit,
    labels: Labels,
) -> dict[str, Any]:
    term = fit.ordinary.terms[j]
    numeric = variable not in reference
    level = NUMERIC_LEVEL if numeric else term[len(variable) :]
    level_label = (
        labels.get("level", f"{variable}.{NUMERIC_LEVEL}", default=NUMERIC_LEVEL)
        if numeric
        else labels.level(variable, level)
    )
    row = {
        "term": f"{variable}={level}",
        "variable": variable,
        "level": level,
        "reference": "per unit increase" if numeric else str(reference[variable]),
        "label": f"{common['variable_label']} ({level_label})"
        if numeric
        else labels.term(variable, level),
        "variable_label": common["variable_label"],
        "level_label": level_label,
        "model": common["model"],
    }
    estimate, estimable = _estimate(j, term, fit)
    return _ordered(
        row | fit.shared() | estimate | {"is_reference": False, "estimable": estimable},
        common,
        fit,
    )


def _estimate(j: int, term: str, fit: _Fit) -> tuple[dict[str, Any], bool]:
    """Numbers of term `j`: Firth's when used, else ordinary (none for a diverging term)."""
    if fit.firth is not None:
        f = fit.firth
        return {
            "hr": float(np.exp(f.coef[j])),
            "lower": float(f.hr_lower[j]),
            "upper": float(f.hr_upper[j]),
            "coef": float(f.coef[j]),
            "se": float(f.se[j]),
            "z": None,
            "p": float(f.p[j]),
        }, True
    if term in fit.diverging:
        return dict(EMPTY), False
    o = fit.ordinary
    lower, upper = o.hr_ci()
    return {
        "hr": float(o.hr[j]),
        "lower": float(lower[j]),
        "upper": float(upper[j]),
        "coef": float(o.coef[j]),
        "se": float(o.se[j]),
        "z": float(o.z[j]),
        "p": float(o.p[j]),
    }, True


ROW_KEYS = (
    "term", "variable", "level", "reference", "label", "variable_label", "level_label",
    "model", "n", "events", "hr", "lower", "upper", "coef", "se", "z", "p", "ties", "firth",
    "monotone", "ci_method", "test", "is_reference", "estimable", "global_p", "global_test",
    "events_per_parameter", "epv_low",
)  # fmt: skip


def _ordered(row: dict[str, Any], common: dict[str, Any], fit: _Fit) -> dict[str, Any]:
    """The row's keys in the published order."""
    full = row | {k: common[k] for k in ("global_p", "global_test")} | fit.epv()
    return {k: full[k] for k in ROW_KEYS}


def _references(
    X: pd.DataFrame, present: Sequence[str], subgroups: Mapping[str, SubgroupSettings]
) -> dict[str, Any]:
    """Reference level of each factor: the clinical comparator or the subgroup's low level
    when present in the data, else the first level (sorted), as the design would pick."""
    out: dict[str, Any] = {}
    for name in present:
        if _is_numeric(X[name]):
            continue
        wanted = subgroups[name].low if name in subgroups else REFERENCE_LEVELS.get(name)
        levels = sorted(X[name].dropna().unique(), key=lambda v: (str(type(v)), v))
        out[name] = wanted if wanted is not None and wanted in set(levels) else levels[0]
    return out


def _ordinary_fit(
    time: np.ndarray,
    event: np.ndarray,
    X: pd.DataFrame,
    reference: dict[str, Any],
    config: StudyConfig,
) -> tuple[CoxResult, frozenset[str]]:
    """Ordinary Cox and the names of the terms whose coefficients diverge."""
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
    messages = [str(w.message) for w in caught if issubclass(w.category, MonotoneLikelihoodWarning)]
    return fit, frozenset(t for t in fit.terms for m in messages if _names_term(m, t))


def _names_term(message: str, term: str) -> bool:
    """Whether the monotone-likelihood message lists `term` ("variable(s) a, b; ...")."""
    listed = message.partition("variable(s) ")[2].partition(";")[0]
    return term in listed.split(", ")


def _firth_fit(
    time: np.ndarray,
    event: np.ndarray,
    X: pd.DataFrame,
    reference: dict[str, Any],
    config: StudyConfig,
) -> FirthCoxResult | None:
    """Firth's penalised Cox; None when it cannot be fitted (then no estimate is reported)."""
    from rechallenge.stats.firth import fit_firth_cox

    try:
        return fit_firth_cox(
            time, event, X, reference=reference, conf_level=1 - config.statistics.alpha
        )
    except (ValueError, np.linalg.LinAlgError):
        return None


def _global_test(
    time: np.ndarray,
    event: np.ndarray,
    X: pd.DataFrame,
    reference: dict[str, Any],
    variable: str,
    fit: _Fit,
    config: StudyConfig,
) -> tuple[float | None, str | None]:
    """Step 4: (p, test) of the whole variable for a factor with >= 3 levels, else (None, None)."""
    df = len(fit.ordinary.assign[variable])
    if variable not in reference or df < 2:
        return None, None
    alone = X.shape[1] == 1
    if fit.firth is not None:
        if alone:
            return float(fit.firth.lr_p), "firth_lr"
        try:
            test = firth_lr_test(time, event, X, [variable], reference=reference)
        except (ValueError, np.linalg.LinAlgError):
            return None, None
        return test.p, "firth_lr"
    if alone:
        return float(fit.ordinary.lr.p), "LR"
    reduced, _ = _ordinary_fit(
        time,
        event,
        X.drop(columns=[variable]),
        {k: v for k, v in reference.items() if k != variable},
        config,
    )
    chi2 = 2.0 * (fit.ordinary.loglik - reduced.loglik)
    return float(stats.chi2.sf(chi2, df)), "LR"


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
