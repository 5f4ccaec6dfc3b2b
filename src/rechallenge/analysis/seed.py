"""The seed protocol's analyses, driven by the configuration, assembled as the results dict.

Sections (keys of results.json): cohort, baseline, efficacy, km, logrank, cox,
adverse_events, resistance, waterfall, swimmer, methods, warnings. Each statistic names
the method that produced it. Figures and tables read these results; they never recompute.
"""

from __future__ import annotations

import warnings as pywarnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.analysis.formatting import clean, percent
from rechallenge.config import DAYS_PER_MONTH, StudyConfig, SubgroupSettings
from rechallenge.derive.endpoints import ENDPOINTS
from rechallenge.rules.adverse_events import summarise_adverse_events
from rechallenge.rules.cohort import Selection
from rechallenge.stats.cox import MonotoneLikelihoodWarning, fit_cox
from rechallenge.stats.descriptive import (
    chisq_test,
    fisher_test,
    summarise_continuous,
    wilcoxon_test,
)
from rechallenge.stats.km import kaplan_meier
from rechallenge.stats.logrank import logrank_test
from rechallenge.stats.proportions import clopper_pearson, wilson

RESPONSES = ("CR", "PR", "SD", "PD", "NE")
RISK_STEP_MONTHS = 3.0


@dataclass(frozen=True)
class AnalysisInputs:
    """What the analyses read: patient facts, endpoints and AEs of the analysed patients."""

    facts: pd.DataFrame  # one row per screened patient (derive.patients)
    selection: Selection
    endpoints: pd.DataFrame  # one row per included patient and endpoint (derive.endpoints)
    adverse_events: pd.DataFrame | None  # worst grade per patient, term, phase
    pseudonyms: Mapping[str, str]


def analyse(inputs: AnalysisInputs, config: StudyConfig) -> dict[str, Any]:
    """Run every configured analysis; returns the results dict (before the manifest)."""
    included = inputs.facts[inputs.facts["patient_id"].isin(inputs.selection.included_ids)]
    included = add_covariates(add_subgroups(included, config.statistics.subgroups))
    results: dict[str, Any] = {
        "cohort": cohort_section(inputs, config),
        "baseline": baseline_section(included, config),
        "efficacy": {
            course: efficacy(
                included[f"{course}_bor"]
                if f"{course}_bor" in included
                else pd.Series(dtype=object),
                included.get(f"{course}_response_source"),
                config,
            )
            for course in ("initial", "rechallenge")
        },
    }
    results["resistance"] = resistance_section(config)
    survival = inputs.endpoints.merge(
        included[["patient_id", *[s.name for s in config.statistics.subgroups]]],
        on="patient_id",
        how="inner",
    )
    results["km"] = km_section(survival, config)
    results["logrank"] = logrank_section(survival, config)
    results["cox"] = cox_section(survival, included, config)
    if inputs.adverse_events is not None:
        results["adverse_events"] = ae_section(inputs.adverse_events, len(included))
    results["waterfall"] = waterfall(included, inputs.pseudonyms)
    results["swimmer"] = swimmer(included, inputs.endpoints, inputs.pseudonyms, config)
    return clean(results)


# --------------------------------------------------------------------------- subgroups


def add_subgroups(frame: pd.DataFrame, subgroups: list[SubgroupSettings]) -> pd.DataFrame:
    """One label column per configured subgroup; a missing value stays missing (never guessed)."""
    out = frame.copy()
    for sub in subgroups:
        source = _subgroup_source(out, sub.column)
        labels = np.where(source >= sub.threshold, sub.high, sub.low).astype(object)
        out[sub.name] = pd.Series(labels, index=out.index).where(source.notna())
    return out


def add_covariates(frame: pd.DataFrame) -> pd.DataFrame:
    """Covariates named as readers expect: age (years, at rechallenge), smoking ever/never."""
    return frame.assign(
        age=frame["age_at_rechallenge"].astype("float64"),
        smoking_status=frame["smoking"].map(
            {"never": "never", "former": "ever", "current": "ever"}
        ),
    )


def _subgroup_source(frame: pd.DataFrame, column: str) -> pd.Series:
    """`ecog` and `age` mean their values at the rechallenge start."""
    name = {"ecog": "ecog_rechallenge", "age": "age_at_rechallenge"}.get(column, column)
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


# --------------------------------------------------------------------------- cohort


def cohort_section(inputs: AnalysisInputs, config: StudyConfig) -> dict[str, Any]:
    """Screened and included counts, attrition per criterion, every patient's status."""
    response_columns = [
        f"{course}_{what}"
        for course in ("initial", "rechallenge")
        for what in ("bor", "response_source")
        if f"{course}_{what}" in inputs.facts
    ]
    listing = inputs.selection.listing.merge(
        inputs.facts[["patient_id", "resistance_class", "resistance_reason", *response_columns]],
        on="patient_id",
    )
    return {
        "screened": len(listing),
        "included": int(listing["included"].sum()),
        "attrition": inputs.selection.attrition.to_dict(orient="records"),
        "patients": [
            {
                "patient_id": inputs.pseudonyms[row.patient_id],
                "included": bool(row.included),
                "criterion": row.criterion or None,
                "reason": row.reason,
                "resistance_class": row.resistance_class,
                "resistance_reason": row.resistance_reason,
                "responses": _patient_responses(row),
            }
            for row in listing.itertuples(index=False)
        ],
        "definition": config.resistance.definition,
    }


def _patient_responses(row: Any) -> dict[str, dict[str, Any]]:
    """Best overall response of each ICI course the patient had, with where it came from."""
    out = {}
    for course in ("initial", "rechallenge"):
        bor = getattr(row, f"{course}_bor", None)
        if isinstance(bor, str):
            out[course] = {"bor": bor, "source": getattr(row, f"{course}_response_source", None)}
    return out


# --------------------------------------------------------------------------- resistance


def resistance_section(config: StudyConfig) -> dict[str, Any]:
    """Table 1: the resistance definition's criteria, verbatim and as this run applied them."""
    s = config.resistance
    response = "confirmed" if config.response.confirmation else "unconfirmed"
    months = {"mean_month": f"1 month = {DAYS_PER_MONTH} days", "30_day": "1 month = 30 days",
              "calendar": "calendar months"}[s.month_convention]  # fmt: skip
    criteria: list[dict[str, str]]
    if s.definition == "schoenfeld2021":
        criteria = [
            {"criterion": "Prior PD-(L)1 blockade",
             "wording": "Prior treatment with an anti-PD-(L)1 antibody",
             "applied_as": "≥ 1 dose of an anti-PD-1 or anti-PD-L1 agent in the first ICI course"},
            {"criterion": "Objective response",
             "wording": "Objective response (CR or PR) to PD-(L)1 blockade",
             "applied_as": f"Best overall response CR or PR by {config.response.criterion}, "
                           f"{response}; stable disease does not qualify"},
            {"criterion": "Progression after response",
             "wording": f"Progression within {s.air_window_months} months of the last dose of "
                        "PD-(L)1 blockade",
             "applied_as": f"First progression at most {s.air_window_months} months ({months}) "
                           "after the last dose of the first ICI course"},
        ]  # fmt: skip
    else:
        criteria = [
            {"criterion": "Drug exposure",
             "wording": "≥ 6 weeks (primary) or ≥ 6 months (secondary) of PD-(L)1 blockade",
             "applied_as": f"first to last dose of the first ICI course ({months})"},
            {"criterion": "Best response",
             "wording": "PD or SD < 6 months (primary); CR, PR or SD > 6 months (secondary)",
             "applied_as": f"best overall response by {config.response.criterion}, {response}"},
            {"criterion": "Confirmation of progression",
             "wording": "confirmatory scan ≥ 4 weeks after the first PD, unless rapid progression",
             "applied_as": "as recorded; progression > 12 weeks after the last dose is "
                           "progression after discontinuation"},
        ]  # fmt: skip
    return {"definition": s.definition, "criteria": criteria}


# --------------------------------------------------------------------------- baseline

CATEGORICAL_BASELINE = (
    ("sex", "Sex"),
    ("smoking_status", "Smoking history"),
    ("stage_group", "Stage"),
    ("histology", "Histology"),
    ("metastasis", "Metastases"),
    ("pdl1", "PD-L1 status"),
    ("ecog_group", "ECOG PS at rechallenge"),
)


def baseline_section(frame: pd.DataFrame, config: StudyConfig) -> dict[str, Any]:
    """Age summary and n (%) of each characteristic (denominator: analysed patients).

    With `output.baseline_compare_by` (a subgroup name) every row also gives the
    numbers per group, and each characteristic is compared between the groups by the
    test its data call for (named in the results).
    """
    n = len(frame)
    derived = _baseline_columns(frame)
    by = config.output.baseline_compare_by
    groups = _comparison_groups(derived, by, config)
    rows: list[dict[str, Any]] = []
    ages = derived["age_at_rechallenge"].astype("float64")
    age = summarise_continuous(ages.to_numpy())
    age_row: dict[str, Any] = {
        "variable": "age",
        "label": "Age at rechallenge, years",
        "kind": "continuous",
        "summary": config.output.baseline_summary,
    } | age.to_dict()
    if groups:
        age_row["groups"] = {
            g: {
                k: summarise_continuous(ages[mask].to_numpy()).to_dict()[k]
                for k in ("median", "q1", "q3", "min", "max", "mean", "sd")
            }
            for g, mask in groups.items()
        }
    rows.append(age_row)
    for variable, label in CATEGORICAL_BASELINE:
        rows += _categorical_rows(derived, variable, label, n, groups)
    section: dict[str, Any] = {"n": n, "rows": rows, "comparison": None}
    if groups and by is not None:
        section["comparison"] = _comparison(derived, by, groups, config)
    return section


def _baseline_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Characteristics as tabulated: smoking as ever/never, stage as III/IV."""
    return frame.assign(
        smoking_status=frame["smoking"].map(
            {"never": "never", "former": "ever", "current": "ever"}
        ),
        stage_group=frame["stage"].map(
            lambda s: None if pd.isna(s) else ("III" if s.startswith("III") else "IV")
        ),
    )


METASTASIS_SITES = ("lung", "brain", "bone", "liver", "adrenal", "pleura")


def _levels(frame: pd.DataFrame, variable: str) -> dict[str, pd.Series]:
    """Each level of a characteristic as a boolean mask (metastasis sites may overlap)."""
    if variable == "metastasis":
        return {
            site: frame["metastases"].map(lambda m, s=site: s in (m or ())).astype(bool)
            for site in METASTASIS_SITES
        }
    values = frame[variable].map(lambda v: "missing" if pd.isna(v) else str(v))
    return {level: values == level for level in sorted(values.unique())}


def _categorical_rows(
    frame: pd.DataFrame, variable: str, label: str, n: int, groups: dict[str, pd.Series]
) -> list[dict[str, Any]]:
    if variable != "metastasis" and variable not in frame:
        return []
    rows = []
    for level, mask in _levels(frame, variable).items():
        count = int(mask.sum())
        row: dict[str, Any] = {
            "variable": variable,
            "label": label,
            "kind": "categorical",
            "level": level,
            "level_label": LEVEL_LABELS.get(level, level.replace("_", " ").capitalize()),
            "n": count,
            "percent": percent(count, n),
        }
        if groups:
            row["groups"] = {g: {"n": int((mask & gm).sum())} for g, gm in groups.items()}
        rows.append(row)
    return rows


LEVEL_LABELS = {"0-1": "0–1", "III": "III", "IV": "IV", "2": "2"}


def _comparison_groups(
    frame: pd.DataFrame, by: str | None, config: StudyConfig
) -> dict[str, pd.Series]:
    """Masks of the comparison groups, in the subgroup's order (low, high)."""
    if by is None:
        return {}
    sub = next((s for s in config.statistics.subgroups if s.name == by), None)
    if sub is None or by not in frame:
        return {}
    return {level: (frame[by] == level).fillna(False) for level in (sub.low, sub.high)}


def _comparison(
    frame: pd.DataFrame, by: str, groups: dict[str, pd.Series], config: StudyConfig
) -> dict[str, Any]:
    """Tests between the groups: Wilcoxon-Mann-Whitney for age; Fisher exact when an
    expected count is below 5, otherwise Pearson chi-square, for categories."""
    sub = next(s for s in config.statistics.subgroups if s.name == by)
    tests: list[dict[str, Any]] = []
    ages = frame["age_at_rechallenge"].astype("float64")
    samples = [ages[m].dropna().to_numpy() for m in groups.values()]
    if all(len(s) for s in samples):
        result = wilcoxon_test(samples[0], samples[1])
        tests.append({"variable": "age", "test": result.test, "p": result.p})
    for variable, _ in CATEGORICAL_BASELINE:
        if variable in (by, "metastasis") or variable not in frame:
            continue
        levels = _levels(frame, variable)
        table = np.array(
            [[int((lm & gm).sum()) for lm in levels.values()] for gm in groups.values()]
        )
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            continue
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        result = fisher_test(table) if (expected < 5).any() else chisq_test(table)
        tests.append({"variable": variable, "test": result.test, "p": result.p})
    return {
        "by": by,
        "label": sub.label,
        "groups": list(groups),
        "group_labels": [f"{sub.name.split('_')[0].upper()} {g}" for g in groups],
        "group_n": {g: int(m.sum()) for g, m in groups.items()},
        "tests": tests,
    }


# --------------------------------------------------------------------------- efficacy


def efficacy(bor: pd.Series, source: pd.Series | None, config: StudyConfig) -> dict[str, Any]:
    """Best overall response counts, ORR (CR+PR) and DCR (CR+PR+SD) with exact CIs."""
    values = bor.dropna().map(lambda r: "NE" if r in ("MISSING", "NON-CR/NON-PD") else r)
    non_cr_non_pd = int((bor == "NON-CR/NON-PD").sum())
    n = len(values)
    counts = {r: int((values == r).sum()) for r in RESPONSES}
    ci = clopper_pearson if config.statistics.proportion_ci == "clopper-pearson" else wilson
    conf = 1 - config.statistics.alpha
    section: dict[str, Any] = {
        "n": n,
        "bor": counts,
        "bor_percent": {r: percent(c, n) for r, c in counts.items()},
    }
    for name, hits in (
        ("orr", counts["CR"] + counts["PR"]),
        ("dcr", counts["CR"] + counts["PR"] + counts["SD"]),
    ):
        if n == 0:
            section[name] = None
            continue
        result = ci(hits, n, conf_level=conf)
        section[name] = {
            "count": hits,
            "estimate": result.estimate,
            "lower": result.lower,
            "upper": result.upper,
            "method": result.method,
            "percent": percent(hits, n),
        }
    if non_cr_non_pd:
        section["note"] = f"{non_cr_non_pd} non-CR/non-PD (no target lesions) counted as NE"
    if source is not None:
        section["source"] = {str(k): int(v) for k, v in source.value_counts().items()}
    return section


# --------------------------------------------------------------------------- survival


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
    followed = [m * dpm for m in config.endpoints.landmarks_months if m * dpm <= days.max()]
    rates = fit.survival_at(followed) if followed else None
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
        "rates": landmark_rates(rates, config.endpoints.landmarks_months, dpm),
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


def landmark_rates(rates: Any, months: list[float], dpm: float) -> list[dict[str, Any]]:
    """Survival at each landmark; beyond the last follow-up the rate is not estimable (None)."""
    times = [] if rates is None else rates.time
    by_time = {round(float(t) / dpm, 9): i for i, t in enumerate(times)}
    out = []
    for m in months:
        i = by_time.get(round(m, 9))
        if i is None:
            out.append({"time_months": m, "surv": None, "lower": None, "upper": None, "n_risk": 0})
            continue
        out.append(
            {
                "time_months": m,
                "surv": float(rates.surv[i]),
                "lower": float(rates.lower[i]),
                "upper": float(rates.upper[i]),
                "n_risk": int(rates.n_risk[i]),
            }
        )
    return out


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


# --------------------------------------------------------------------------- adverse events


def ae_section(worst: pd.DataFrame, n: int) -> dict[str, Any]:
    """Patients with each term per phase: any grade, grade 3-4 and grade 5, n (%)."""
    summary = summarise_adverse_events(worst, n)
    sources = worst.groupby(["phase", "term"])["source"].agg(lambda s: sorted(set(s)))
    section: dict[str, Any] = {"n": {"initial": n, "rechallenge": n}}
    for phase in ("initial", "rechallenge"):
        rows = [
            {
                "term": str(r.term),
                "any_grade": int(r.n_any),
                "any_grade_pct": percent(int(r.n_any), n),
                "grade_3_4": int(r.n_grade_3_4),
                "grade_3_4_pct": percent(int(r.n_grade_3_4), n),
                "grade_5": int(r.n_grade_5),
                "sources": sources.get((phase, r.term), []),
            }
            for r in summary[summary["phase"] == phase].itertuples(index=False)
        ]
        rows.sort(key=lambda r: (-r["any_grade"], -r["grade_3_4"], r["term"]))
        section[phase] = rows
    return section


# --------------------------------------------------------------------------- per patient


def waterfall(included: pd.DataFrame, pseudonyms: Mapping[str, str]) -> list[dict[str, Any]]:
    """Best % change of the target sum per patient and course (lesion-derived only)."""
    parts = []
    for course in ("initial", "rechallenge"):
        column = f"{course}_best_pct_change"
        if column not in included:
            continue
        part = included[included[column].notna()]
        parts.append(
            pd.DataFrame({
                "patient": part["patient_id"].map(pseudonyms),
                "course": course,
                "best_pct_change": part[column].astype(float),
                "bor": part[f"{course}_bor"],
            })
        )  # fmt: skip
    return pd.concat(parts).to_dict(orient="records") if parts else []


SWIMMER_DATES = {
    "initial_end": "initial_last_dose_date",
    "initial_response": "initial_response_date",
    "initial_progression": "initial_progression_date",
    "interim_start": "initial_next_line_start",
    "interim_end": "rechallenge_start_date",
    "rechallenge_start": "rechallenge_start_date",
    "rechallenge_end": "rechallenge_last_dose_date",
    "rechallenge_response": "rechallenge_response_date",
    "rechallenge_progression": "rechallenge_progression_date",
}


def swimmer(
    included: pd.DataFrame,
    endpoints: pd.DataFrame,
    pseudonyms: Mapping[str, str],
    config: StudyConfig,
) -> list[dict[str, Any]]:
    """Each patient's timeline in months from the initial ICI start (vectorised)."""
    dpm = config.endpoints.days_per_month
    origin = included["initial_start_date"]

    def months(column: str) -> pd.Series:
        if column not in included:
            return pd.Series(np.nan, index=included.index)
        return (pd.to_datetime(included[column]) - origin).dt.days / dpm

    has_interim = included["interim_lines"].map(lambda v: isinstance(v, tuple) and len(v) > 0)
    frame = pd.DataFrame({"patient": included["patient_id"].map(pseudonyms), "initial_start": 0.0})
    for key, column in SWIMMER_DATES.items():
        frame[key] = months(column)
    for key in ("interim_start", "interim_end"):
        frame[key] = frame[key].where(has_interim)
    dead = included["death_date"].notna()
    frame["last_followup"] = (included["death_date"].where(dead, included["last_contact_date"])
                              - origin).dt.days / dpm  # fmt: skip
    frame["death"] = dead
    frame["ongoing"] = included["rechallenge_end_reason"] == "ongoing"
    os_censored = endpoints[endpoints["paramcd"] == "OS"].set_index("patient_id")["cnsr"] == 1
    frame["censored"] = included["patient_id"].map(os_censored).fillna(False).astype(bool)
    frame["bor_initial"] = included.get("initial_bor")
    frame["bor_rechallenge"] = included.get("rechallenge_bor")
    records: list[dict[str, Any]] = (
        frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    )
    return records
