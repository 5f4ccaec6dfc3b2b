"""Prognostic model: a multivariable Cox model of markers at the rechallenge baseline.

On when the configuration has a ``prognostic`` section (`PrognosticSettings`). Steps:

1. **Size.** Fewer analysed patients than ``min_n`` (default 50): the section is off and
   says why (``status: "off"``, ``reason``); nothing is fitted.
2. **Markers.** `derive_markers` (NLR, BMI, re-tested PD-L1) with the configured rules;
   per marker, how many patients have no value and why.
3. **Model frame.** The configured covariates of every analysed patient with the endpoint
   (``PFSR`` or ``OS``); a categorical covariate becomes 0/1 indicators against its
   reference level (`REFERENCE_LEVELS`, else the commonest level). Complete cases only:
   the patients left out for a missing value are counted, per covariate.
4. **Fit.** `fit_prognostic_cox` (Efron ties), continuous covariates named in ``splines``
   as restricted cubic splines (R ``rms::rcs`` knots); events per model degree of freedom
   against ``min_epv`` (the warning's text is kept in ``warnings``). A diverging
   coefficient (monotone likelihood) switches to Firth's penalised Cox for the estimates;
   the validation then is not computed (an infinite predictor cannot be validated).
5. **Validation.** Harrell's and Uno's C, and at each ``validation.times_months`` the
   time-dependent AUC and the calibration table (risk groups by predicted survival, the
   Kaplan–Meier estimate beside the mean prediction); predicted survival is
   ``S(t | x) = S(t | x̄)^exp((x - x̄)'β)`` from `cox_survfit`. Harrell's bootstrap
   optimism correction of C, Dxy and the calibration slope (``bootstrap`` resamples,
   seeded; knots kept from the full data, as rms ``validate``).
6. **Nomogram.** Points scales of every term (rms ``nomogram`` layout) and the total
   points at which the predicted survival at the first time is 0.9, 0.8, ….
7. **Penalised Cox** (only when ``penalty.method`` is set): cross-validated λ on a short
   path (``nlambda``), coefficients at ``lambda.min`` and ``lambda.1se``.

Results key ``prognostic``: ``status`` (``fitted``, ``off`` or ``not_fitted``),
``reason``, ``settings``, ``n_analysed``, ``markers`` (summary and missing reasons),
``frame`` (n, events, excluded by covariate), ``model`` (method, terms, variables,
df, events per variable, knots), ``validation``, ``nomogram``, ``penalised``,
``warnings``.
"""

from __future__ import annotations

import math
import warnings as pywarnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from scipy import stats

from rechallenge.analysis.prognostic_settings import PrognosticSettings
from rechallenge.analysis.regression import REFERENCE_LEVELS
from rechallenge.derive.markers import MARKERS, derive_markers
from rechallenge.stats.cox import MonotoneLikelihoodWarning
from rechallenge.stats.coxsurv import cox_survfit
from rechallenge.stats.firth import fit_firth_cox
from rechallenge.stats.penalised import cv_penalised_cox, lambda_sequence
from rechallenge.stats.prognostic import (
    LowEventsPerVariableWarning,
    PrognosticFit,
    fit_prognostic_cox,
    nomogram,
    rcs_names,
    spline_design,
)
from rechallenge.stats.validation import (
    bootstrap_optimism,
    calibration_slope,
    calibration_table,
    concordance,
    cox_fitter,
    time_dependent_auc,
)

if TYPE_CHECKING:
    from rechallenge.config import StudyConfig

__all__ = ["prognostic_results", "prognostic_section"]

FloatArray = np.ndarray
CATEGORICAL: Final = ("sex", "smoking_status", "histology")
#: facts column of each covariate that is not a derived marker
SOURCE_COLUMNS: Final = {
    "ecog": "ecog_rechallenge",
    "age": "age",
    "sex": "sex",
    "smoking_status": "smoking_status",
    "histology": "histology",
    "pdl1_tps": "pdl1_tps",
}
SURVIVAL_LEVELS: Final = (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)
MIN_EVENTS: Final = 5


def _settings(config: StudyConfig) -> PrognosticSettings | None:
    settings = getattr(config, "prognostic", None)
    if not isinstance(settings, PrognosticSettings) or not settings.enabled:
        return None
    return settings


def _num(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


# --- Markers and the model frame ------------------------------------------------------------


def _marker_block(table: pd.DataFrame, missing: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """Per marker: patients with a value, median and range, and why the others have none."""
    out: dict[str, Any] = {}
    for name in MARKERS:
        values = table[name].dropna()
        out[name] = {
            "n": int(values.size),
            "missing": int(table[name].isna().sum()),
            "missing_reasons": dict(missing.get(name, {})),
            "median": _num(values.median()) if values.size else None,
            "min": _num(values.min()) if values.size else None,
            "max": _num(values.max()) if values.size else None,
        }
    return out


def _covariate_values(frame: pd.DataFrame, markers: pd.DataFrame, name: str) -> pd.Series:
    """One covariate of each analysed patient (index patient_id)."""
    if name in markers.columns:
        return markers[name]
    column = SOURCE_COLUMNS[name]
    values = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
    if name in CATEGORICAL:
        return values.astype(object).where(values.notna())
    return pd.to_numeric(values, errors="coerce").astype(float)


def _reference(values: pd.Series, name: str) -> str:
    levels = values.dropna().astype(str).value_counts()
    wanted = REFERENCE_LEVELS.get(name)
    return wanted if wanted is not None and wanted in levels.index else str(levels.index[0])


def _indicators(values: pd.Series, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """0/1 columns ``name=level`` against the reference level, and the variable's layout."""
    ref = _reference(values, name)
    levels = sorted(set(values.dropna().astype(str)) - {ref})
    cols = pd.DataFrame(
        {f"{name}={lv}": (values.astype(str) == lv).astype(float) for lv in levels},
        index=values.index,
    )
    return cols, {"kind": "factor", "reference": ref, "levels": levels}


def model_frame(
    frame: pd.DataFrame, markers: pd.DataFrame, settings: PrognosticSettings
) -> tuple[pd.DataFrame, dict[str, int], dict[str, dict[str, Any]]]:
    """Complete-case covariates (factors as indicators), missing counts, variable layout."""
    raw = pd.DataFrame(
        {n: _covariate_values(frame, markers, n) for n in settings.covariates}, index=frame.index
    )
    missing = {n: int(raw[n].isna().sum()) for n in settings.covariates}
    complete = raw.dropna()
    columns: list[pd.DataFrame] = []
    layout: dict[str, dict[str, Any]] = {}
    for name in settings.covariates:
        if name in CATEGORICAL:
            cols, info = _indicators(complete[name], name)
        else:
            cols = complete[[name]].astype(float)
            kind = "spline" if name in settings.splines else "numeric"
            info = {"kind": kind}
        columns.append(cols)
        layout[name] = info | {"columns": list(cols.columns)}
    design = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=complete.index)
    return design, missing, layout


# --- Fit --------------------------------------------------------------------------------------


def _fit(
    time: FloatArray, event: FloatArray, design: pd.DataFrame, settings: PrognosticSettings
) -> tuple[PrognosticFit, list[str], bool]:
    """The prognostic Cox fit, its events-per-variable warning (text) and whether it is
    monotone (a coefficient diverges)."""
    splines = {k: v for k, v in settings.splines.items() if k in design.columns}
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        fit = fit_prognostic_cox(time, event, design, splines=splines, min_epv=settings.min_epv)
    # the monotone-likelihood message names design columns; the section says it in words
    texts = [str(w.message) for w in caught if issubclass(w.category, LowEventsPerVariableWarning)]
    monotone = any(issubclass(w.category, MonotoneLikelihoodWarning) for w in caught)
    return fit, texts, monotone


def _spline_design(design: pd.DataFrame, fit: PrognosticFit) -> pd.DataFrame:
    """The design matrix of the fit (spline columns replaced by their basis)."""
    out, _ = spline_design(design, {k: len(v) for k, v in fit.knots.items()}, fit.knots)
    return out[list(fit.cox.terms)]


def _wald(coef: FloatArray, var: FloatArray, idx: list[int]) -> tuple[float, int, float]:
    """Wald chi-square of the coefficients ``idx`` being 0: statistic, df, p."""
    b = coef[idx]
    v = var[np.ix_(idx, idx)]
    chi2 = float(b @ np.linalg.solve(v, b))
    return chi2, len(idx), float(stats.chi2.sf(chi2, len(idx)))


def _term_rows(
    fit: PrognosticFit, layout: Mapping[str, Mapping[str, Any]], firth: Any | None
) -> list[dict[str, Any]]:
    """One row per design column, grouped by variable; a spline adds its overall and
    non-linearity Wald tests (rms ``anova``)."""
    cox = fit.cox
    terms = list(cox.terms)
    source: Any = firth if firth is not None else cox
    coef = np.asarray(source.coef, dtype=float)
    if firth is not None:
        lower, upper, p = np.asarray(firth.hr_lower), np.asarray(firth.hr_upper), firth.p
    else:
        lower, upper = cox.hr_ci()
        p = cox.p
    rows = []
    for name, info in layout.items():
        cols = rcs_names(name, len(fit.knots[name])) if name in fit.knots else info["columns"]
        for col in cols:
            j = terms.index(col)
            rows.append(
                {
                    "variable": name,
                    "term": col,
                    "kind": info["kind"],
                    "level": col.partition("=")[2] or None,
                    "reference": info.get("reference"),
                    "coef": _num(coef[j]),
                    "hr": _num(math.exp(coef[j])) if math.isfinite(coef[j]) else None,
                    "lower": _num(lower[j]),
                    "upper": _num(upper[j]),
                    "p": _num(p[j]),
                }
            )
        if name in fit.knots and firth is None:
            idx = [terms.index(c) for c in cols]
            var = np.asarray(cox.var, dtype=float)
            chi2, df, pv = _wald(np.asarray(cox.coef, dtype=float), var, idx)
            nl_chi2, nl_df, nl_p = _wald(np.asarray(cox.coef, dtype=float), var, idx[1:])
            rows[-len(cols)] |= {
                "overall": {"chi2": chi2, "df": df, "p": pv},
                "nonlinear": {"chi2": nl_chi2, "df": nl_df, "p": nl_p},
            }
    return rows


# --- Validation -------------------------------------------------------------------------------


def _harrell_c(time: FloatArray, event: FloatArray, risk: FloatArray) -> float:
    return concordance(time, event, risk).c


def _with_dxy(boot: dict[str, Any]) -> dict[str, Any]:
    """Somers' Dxy = 2 (C - 1/2) added to each part of the bootstrap result.

    Dxy is a linear function of C, so its apparent, training, test and corrected values and
    its optimism (twice C's) follow exactly from C's; computing it from the same pairs
    again would double the cost of the bootstrap.
    """
    out = dict(boot)
    for part in ("apparent", "training", "test", "corrected"):
        c = boot[part]["C"]
        out[part] = {"C": c, "Dxy": 2.0 * (c - 0.5), "Slope": boot[part]["Slope"]}
    optimism = boot["optimism"]
    out["optimism"] = {"C": optimism["C"], "Dxy": 2.0 * optimism["C"], "Slope": optimism["Slope"]}
    return out


def _quiet_fitter(count: list[int]) -> Callable[..., Callable[[FloatArray], FloatArray]]:
    """`cox_fitter` with the fit warnings of resamples counted instead of raised."""

    def fitter(t: FloatArray, e: FloatArray, x: FloatArray) -> Callable[[FloatArray], FloatArray]:
        with pywarnings.catch_warnings(record=True) as caught:
            pywarnings.simplefilter("always")
            predict = cox_fitter(t, e, x)
        count[0] += int(bool(caught))
        return predict

    return fitter


def _cumhaz_at_mean(fit: PrognosticFit, x: FloatArray, days: float) -> float:
    """``H(days | x̄)``: cumulative hazard of the mean covariate profile at ``days``."""
    curve = cox_survfit(fit.cox, x.mean(axis=0).reshape(1, -1))
    at = int(np.searchsorted(curve.time, days, side="right")) - 1
    return 0.0 if at < 0 else float(curve.cumhaz[at, 0])


def _predicted_survival(fit: PrognosticFit, x: FloatArray, days: float) -> FloatArray:
    """``S(days | x)`` of each row of the design ``x``."""
    coef = np.asarray(fit.cox.coef, dtype=float)
    xbar = x.mean(axis=0)
    h0 = _cumhaz_at_mean(fit, x, days)
    lp = ((x - xbar) * coef).sum(axis=1)
    return np.asarray(np.exp(-h0 * np.exp(lp)), dtype=float)


def _at_time(
    time: FloatArray,
    event: FloatArray,
    lp: FloatArray,
    surv: FloatArray,
    months: float,
    days: float,
    groups: int,
) -> dict[str, Any]:
    """td-AUC and the calibration table at one time."""
    out: dict[str, Any] = {"months": months, "days": days}
    try:
        out["auc"] = time_dependent_auc(time, event, lp, days)
    except ValueError as exc:
        out["auc"], out["auc_reason"] = None, str(exc)
    table = calibration_table(time, event, surv, days, groups=groups)
    out["calibration"] = [
        {
            "group": k + 1,
            "n": g.n,
            "predicted": g.predicted,
            "observed": _num(g.observed),
            "lower": _num(g.lower),
            "upper": _num(g.upper),
        }
        for k, g in enumerate(table)
    ]
    return out


def _validation(
    time: FloatArray,
    event: FloatArray,
    x: FloatArray,
    fit: PrognosticFit,
    settings: PrognosticSettings,
    days_per_month: float,
) -> dict[str, Any]:
    coef = np.asarray(fit.cox.coef, dtype=float)
    lp = (x * coef).sum(axis=1)
    lp = lp - lp.mean()
    vs = settings.validation
    times = [
        _at_time(
            time,
            event,
            lp,
            _predicted_survival(fit, x, t * days_per_month),
            t,
            t * days_per_month,
            vs.groups,
        )
        for t in vs.times_months
    ]
    out: dict[str, Any] = {
        "harrell_c": concordance(time, event, lp).c,
        "uno_c": concordance(time, event, lp, weights="uno").c,
        "times": times,
        "bootstrap": None,
    }
    if vs.bootstrap > 0:
        count = [0]
        boot = bootstrap_optimism(
            time,
            event,
            x,
            b=vs.bootstrap,
            seed=vs.seed,
            fitter=_quiet_fitter(count),
            statistics={"C": _harrell_c, "Slope": calibration_slope},
        )
        out["bootstrap"] = _with_dxy(boot.to_dict()) | {
            "seed": vs.seed,
            "resamples_with_warnings": count[0],
        }
    return out


# --- Nomogram ---------------------------------------------------------------------------------


def _grid(values: pd.Series) -> list[float]:
    """Axis values of a numeric term: about six round numbers over the data's range."""
    lo, hi = float(values.min()), float(values.max())
    if set(values.unique()) <= {0.0, 1.0}:
        return [0.0, 1.0]
    if (values == values.round()).all() and hi - lo <= 6:  # a score: every whole value
        return [float(v) for v in range(int(lo), int(hi) + 1)]
    ticks = _nice_ticks(lo, hi)
    return [t for t in ticks if lo <= t <= hi] or [lo, hi]


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo if hi > lo else 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step) * step
    return [round(start + k * step, 10) for k in range(int((hi - start) / step + 1e-9) + 1)]


def _nomogram_block(
    fit: PrognosticFit,
    design: pd.DataFrame,
    x: FloatArray,
    layout: Mapping[str, Mapping[str, Any]],
    days: float,
    months: float,
) -> dict[str, Any]:
    coef = np.asarray(fit.cox.coef, dtype=float)
    center = float((x.mean(axis=0) * coef).sum())
    factors = {n: info["columns"] for n, info in layout.items() if info["kind"] == "factor"}
    values = {
        col: _grid(design[col])
        for info in layout.values()
        if info["kind"] != "factor"
        for col in info["columns"]
    }
    nomo = nomogram(fit, values, factors=factors, center=center)
    h0 = _cumhaz_at_mean(fit, x, days)
    max_points = sum(max(p) for _, p in nomo.axes.values())
    survival = []
    if h0 > 0:
        for s in SURVIVAL_LEVELS:
            lp = math.log(-math.log(s) / h0)
            pts = float(nomo.lp_to_points([lp])[0])
            if 0 <= pts <= max_points:
                survival.append({"survival": s, "points": pts})
    axes = []
    for name, info in layout.items():
        if info["kind"] == "factor":
            vals, scale = nomo.axes[name]
            ticks = [info["reference"], *(c.partition("=")[2] for c in info["columns"])]
            axes.append(
                {"variable": name, "term": name, "kind": "factor", "values": vals,
                 "points": scale, "ticks": ticks}
            )  # fmt: skip
            continue
        for col in info["columns"]:
            vals, scale = nomo.axes[col]
            axes.append(
                {"variable": name, "term": col, "kind": info["kind"], "values": vals,
                 "points": scale, "ticks": [f"{v:g}" for v in vals]}
            )  # fmt: skip
    return {
        "months": months,
        "axes": axes,
        "max_total_points": max_points,
        "survival": survival,
        "points_per_unit": nomo.points_per_unit,
    }


# --- Penalised --------------------------------------------------------------------------------


def _penalised(
    time: FloatArray, event: FloatArray, x: FloatArray, terms: tuple[str, ...], settings: Any
) -> dict[str, Any]:
    alpha = settings.mixing()
    lam = lambda_sequence(time, event, x, alpha=max(alpha, 1e-3), nlambda=settings.nlambda)
    cv = cv_penalised_cox(
        time, event, x, lambdas=lam, alpha=alpha, nfolds=settings.nfolds, seed=settings.seed,
        terms=terms,
    )  # fmt: skip
    i_min = int(np.nonzero(cv.lambdas == cv.lambda_min)[0][0])
    i_1se = int(np.nonzero(cv.lambdas == cv.lambda_1se)[0][0])
    return {
        "method": settings.method,
        "alpha": alpha,
        "nfolds": settings.nfolds,
        "seed": settings.seed,
        "nlambda": int(lam.size),
        "lambda_min": cv.lambda_min,
        "lambda_1se": cv.lambda_1se,
        "coef_min": dict(zip(terms, cv.fit.coef[i_min].tolist(), strict=True)),
        "coef_1se": dict(zip(terms, cv.fit.coef[i_1se].tolist(), strict=True)),
        "cv_deviance_min": float(cv.cvm[i_min]),
    }


# --- Section ----------------------------------------------------------------------------------


def _endpoint(survival: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    rows = survival[survival["paramcd"] == endpoint]
    return rows[["patient_id", "aval_days", "cnsr"]].set_index("patient_id")


def _off(status: str, reason: str, base: dict[str, Any]) -> dict[str, Any]:
    return base | {"status": status, "reason": reason}


def prognostic_section(
    included: pd.DataFrame,
    survival: pd.DataFrame,
    labs: pd.DataFrame | None,
    config: StudyConfig,
) -> dict[str, Any] | None:
    """The ``prognostic`` results section, or None when the configuration has none."""
    settings = _settings(config)
    if settings is None:
        return None
    n = len(included)
    base: dict[str, Any] = {
        "settings": settings.model_dump(mode="json"),
        "endpoint": settings.endpoint,
        "n_analysed": n,
        "warnings": [],
    }
    if n < settings.min_n:
        return _off(
            "off",
            f"{n} patients were analysed, fewer than the {settings.min_n} a prognostic "
            "model needs (prognostic.min_n)",
            base,
        )
    frame = included.set_index("patient_id")
    starts = pd.to_datetime(frame["rechallenge_start_date"])
    derived = derive_markers(
        included, labs if labs is not None else pd.DataFrame(), starts, settings.markers
    )
    markers = derived.table.set_index("patient_id")
    base["markers"] = _marker_block(markers, derived.missing)
    ends = _endpoint(survival, settings.endpoint)
    frame = frame.loc[frame.index.isin(ends.index)]
    design, missing, layout = model_frame(frame, markers.reindex(frame.index), settings)
    times = ends.loc[design.index]
    time = times["aval_days"].to_numpy(float)
    event = 1.0 - times["cnsr"].to_numpy(float)
    base["frame"] = {
        "n_with_endpoint": len(frame),
        "n": len(design),
        "events": int(event.sum()),
        "excluded": int(len(frame) - len(design)),
        "missing_by_covariate": missing,
    }
    constant = [c for c in design.columns if design[c].nunique() < 2]
    if event.sum() < MIN_EVENTS or len(design) < 10 or constant:
        reason = (
            f"covariate column(s) {', '.join(constant)} take a single value in the complete cases"
            if constant
            else f"{int(event.sum())} events in {len(design)} complete cases are too few to fit"
        )
        return _off("not_fitted", reason, base)
    return _fitted(base, design, time, event, layout, settings, config.endpoints.days_per_month)


def _fitted(
    base: dict[str, Any],
    design: pd.DataFrame,
    time: FloatArray,
    event: FloatArray,
    layout: dict[str, dict[str, Any]],
    settings: PrognosticSettings,
    days_per_month: float,
) -> dict[str, Any]:
    fit, texts, monotone = _fit(time, event, design, settings)
    base["warnings"] = texts
    firth = None
    if monotone:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            firth = fit_firth_cox(time, event, _spline_design(design, fit))
    x = _spline_design(design, fit).to_numpy(float)
    base["model"] = {
        "method": "firth" if firth is not None else "cox",
        "ties": "breslow" if firth is not None else "efron",
        "n": len(design),
        "events": int(event.sum()),
        "df": fit.df,
        "events_per_variable": fit.events_per_variable,
        "epv_low": fit.events_per_variable < settings.min_epv,
        "min_epv": settings.min_epv,
        "knots": fit.knots,
        "layout": layout,
        "terms": _term_rows(fit, layout, firth),
        "lr": fit.cox.lr.to_dict() if firth is None else None,
    }
    if firth is not None:
        base["validation"] = None
        base["nomogram"] = None
        base["validation_reason"] = (
            "the likelihood is monotone (a coefficient diverges), so the model's predictions "
            "cannot be validated; Firth's estimates are reported"
        )
        return base | {"status": "fitted"}
    base["validation"] = _validation(time, event, x, fit, settings, days_per_month)
    first = settings.validation.times_months[0]
    base["nomogram"] = _nomogram_block(fit, design, x, layout, first * days_per_month, first)
    if settings.penalty.method != "none":
        base["penalised"] = _penalised(time, event, x, tuple(fit.cox.terms), settings.penalty)
    return base | {"status": "fitted"}


def prognostic_results(
    included: pd.DataFrame,
    survival: pd.DataFrame,
    labs: pd.DataFrame | None,
    config: StudyConfig,
) -> dict[str, Any]:
    """``{"prognostic": ...}`` to merge into the results, or ``{}`` when the section is off."""
    section = prognostic_section(included, survival, labs, config)
    return {} if section is None else {"prognostic": section}
