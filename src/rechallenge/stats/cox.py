"""Cox proportional-hazards regression reproducing R ``survival::coxph`` (3.5).

Public API:

- :func:`fit_cox` — fit the model (Efron or Breslow ties, strata, any number of
  covariates; categorical columns become treatment contrasts).
- :class:`CoxResult` — immutable result with ``to_dict()`` and ``to_frame()``.
- :class:`GlobalTest`, :class:`Concordance` — parts of the result.
- :class:`MonotoneLikelihoodWarning` — a coefficient diverges (monotone likelihood).
- :class:`CoxConvergenceWarning` — the iteration limit was reached.

Algorithm of :func:`fit_cox` (R ``coxph.fit`` and ``coxfit6.c``; Therneau & Grambsch,
*Modeling Survival Data*, 2000, ch. 3):

1. Validate ``time``/``event``/``strata`` once (:func:`~rechallenge.stats.survdata.as_survdata`),
   build the design matrix (treatment contrasts for categorical columns).
2. Number the (stratum, time) groups with one sort of the times; centre each covariate
   at its mean and scale it by ``n / sum|x - mean|`` (columns with values only in
   {-1, 0, 1} are left alone, R's ``nocenter`` default). Newton steps are invariant
   to this; it only improves rounding.
3. At ``beta = 0`` compute the log-likelihood, score ``U`` and information ``I``;
   the score (log-rank) test is ``U' I^- U``.
4. Newton–Raphson from ``beta = 0`` with R's rules: a step is ``I^- U`` (Cholesky with
   ``toler_chol``); a step that lowers the log-likelihood or gives non-finite values is
   halved towards the last good ``beta`` (``(new + k * old) / (k + 1)`` after ``k``
   failures); stop when ``|1 - loglik_old / loglik_new| <= eps`` or after ``iter_max``.
5. The variance is ``I^-1`` at the estimate (redundant columns: NA). Wald test
   ``beta' I beta``; likelihood-ratio test ``2 (loglik - loglik_0)``.
6. Infinite coefficients (R's check): at convergence, the next Newton step
   ``|U' I^-1|`` of a coefficient that exceeds both ``eps`` and ``sqrt(eps) * |beta|``
   means the log-likelihood converged before the coefficient did.
7. Concordance: Harrell's C of the linear predictor with R's counting and its
   infinitesimal-jackknife standard error (``concordancefit``).

References: Efron (1977) JASA 72:557–565; Breslow (1974) Biometrics 30:89–99;
Heinze & Schemper (2001) Biometrics 57:114–119 (monotone likelihood);
Therneau, ``survival`` package sources ``R/coxph.fit.R``, ``src/coxfit6.c``,
``R/concordance.R``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from rechallenge.stats import _cox_kernel as kernel
from rechallenge.stats import survdata
from rechallenge.stats._threads import blas_threads
from rechallenge.stats.survdata import as_survdata, check_start

__all__ = [
    "Concordance",
    "CoxConvergenceWarning",
    "CoxResult",
    "GlobalTest",
    "MonotoneLikelihoodWarning",
    "fit_cox",
]

Ties = Literal["efron", "breslow"]
FloatArray = NDArray[np.float64]

EPS_DEFAULT = 1e-9
TOLER_CHOL_DEFAULT = float(np.finfo(float).eps) ** 0.75
ITER_MAX_DEFAULT = 20
NOCENTER = (-1.0, 0.0, 1.0)


class MonotoneLikelihoodWarning(UserWarning):
    """A coefficient diverges: the likelihood is monotone in it (e.g. a group without events)."""


class CoxConvergenceWarning(UserWarning):
    """Newton–Raphson reached the iteration limit before the log-likelihood converged."""


@dataclass(frozen=True)
class GlobalTest:
    """A chi-square test of all coefficients: statistic, degrees of freedom, p-value."""

    chi2: float
    df: int
    p: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{"chi2", "df", "p"}`` (NaN becomes ``None``)."""
        return {"chi2": _num(self.chi2), "df": self.df, "p": _num(self.p)}


@dataclass(frozen=True)
class Concordance:
    """Harrell's C as R reports it for ``coxph`` (``fit$concordance``).

    ``c = (concordant + tied_x / 2) / (concordant + discordant + tied_x)``; ``se`` is the
    infinitesimal-jackknife standard error (R's ``std``).
    """

    c: float
    se: float
    concordant: float
    discordant: float
    tied_x: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping ``{"c", "se"}``."""
        return {"c": _num(self.c), "se": _num(self.se)}


@dataclass(frozen=True, repr=False)
class CoxData:
    """The validated data of a fit, kept so that :func:`cox_zph` can reuse it.

    ``x`` is the design matrix in input order; ``strata`` integer codes or ``None``.
    """

    time: FloatArray
    event: NDArray[np.int8]
    x: FloatArray
    strata: NDArray[np.intp] | None
    start: FloatArray | None = None
    weights: FloatArray | None = None


@dataclass(frozen=True)
class CoxResult:
    """Result of :func:`fit_cox`; immutable.

    Attributes:
        terms: design-matrix column names (R style, e.g. ``"armB"``).
        coef, se: estimates and standard errors (NaN for redundant columns).
        var: variance matrix (inverse information at the estimate).
        conf_level: level of the Wald confidence intervals of the hazard ratios.
        loglik_null, loglik: log partial likelihood at ``beta = 0`` and at the estimate.
        lr, wald, score: global tests.
        concordance: Harrell's C (``None`` when not requested).
        n, events: observations and events used.
        iterations: Newton–Raphson iterations (R ``fit$iter``).
        converged: whether the log-likelihood criterion was met.
        ties: ``"efron"`` or ``"breslow"``.
        warnings: messages about the fit (also issued with :func:`warnings.warn`).
        assign: model term -> design columns (a categorical column is one term).
    """

    terms: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    var: FloatArray
    conf_level: float
    loglik_null: float
    loglik: float
    lr: GlobalTest
    wald: GlobalTest
    score: GlobalTest
    concordance: Concordance | None
    n: int
    events: int
    iterations: int
    converged: bool
    ties: str
    warnings: tuple[str, ...]
    assign: Mapping[str, tuple[int, ...]]
    data: CoxData = field(repr=False, compare=False)

    @property
    def hr(self) -> FloatArray:
        """Hazard ratios ``exp(coef)`` (``inf`` for a diverging coefficient)."""
        with np.errstate(over="ignore"):
            return np.exp(self.coef)

    @property
    def z(self) -> FloatArray:
        """Wald statistics ``coef / se``."""
        return self.coef / self.se

    @property
    def p(self) -> FloatArray:
        """Two-sided Wald p-values."""
        return 2.0 * stats.norm.sf(np.abs(self.z))

    def hr_ci(self) -> tuple[FloatArray, FloatArray]:
        """Wald limits ``exp(coef -/+ z_{1-alpha/2} se)`` (R ``summary.coxph``)."""
        q = stats.norm.ppf(0.5 + self.conf_level / 2.0)
        with np.errstate(over="ignore"):
            return np.exp(self.coef - q * self.se), np.exp(self.coef + q * self.se)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per term with coef, se, hr, hr_lower, hr_upper, z, p."""
        lower, upper = self.hr_ci()
        return pd.DataFrame(
            {
                "term": list(self.terms),
                "coef": self.coef,
                "se": self.se,
                "hr": self.hr,
                "hr_lower": lower,
                "hr_upper": upper,
                "z": self.z,
                "p": self.p,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping with the key names the CLI relies on (NaN becomes ``None``)."""
        rows = self.to_frame().to_dict(orient="records")
        return {
            "terms": [{k: (v if k == "term" else _num(v)) for k, v in r.items()} for r in rows],
            "tests": {
                "lr": self.lr.to_dict(),
                "wald": self.wald.to_dict(),
                "score": self.score.to_dict(),
            },
            "concordance": (
                {"c": None, "se": None} if self.concordance is None else self.concordance.to_dict()
            ),
            "n": self.n,
            "events": self.events,
            "loglik": [_num(self.loglik_null), _num(self.loglik)],
            "iterations": self.iterations,
            "ties": self.ties,
            "warnings": list(self.warnings),
        }


def _num(value: Any) -> float | None:
    """A float, or ``None`` for NaN/inf (JSON has neither)."""
    v = float(value)
    return v if math.isfinite(v) else None


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    """A read-only view: results cannot be changed by accident, and the caller's array stays
    writable even when the fit uses it without a copy."""
    view = a.view()
    view.setflags(write=False)
    return view


# ----------------------------------------------------------------------------- design


@dataclass(frozen=True)
class Design:
    """Numeric design matrix, its column names and the columns of each term."""

    x: FloatArray
    names: tuple[str, ...]
    assign: dict[str, tuple[int, ...]]


def build_design(
    covariates: pd.DataFrame | ArrayLike, reference: Mapping[str, Any] | None, n: int
) -> Design:
    """Turn a DataFrame or 2-D array into a float design matrix (treatment contrasts).

    Numeric and boolean columns are used as they are. Categorical, object and string
    columns become one 0/1 column per non-reference level, named ``<column><level>``
    as R does; the reference level is ``reference[column]`` or else the first level
    (the categories' order for a pandas ``Categorical``, sorted values otherwise).
    Missing values are rejected (drop incomplete rows first, as R's ``na.omit`` would).
    """
    reference = dict(reference or {})
    if isinstance(covariates, pd.DataFrame):
        return _design_from_frame(covariates, reference, n)
    if reference:
        raise ValueError("reference levels can only be given for a pandas DataFrame")
    arr = np.asarray(covariates)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"X must be numeric, got dtype {arr.dtype}; use a DataFrame for factors")
    x = np.asarray(arr, dtype=np.float64)
    _check_rows(x.shape[0], n)
    _check_finite(x, [f"x{j + 1}" for j in range(x.shape[1])])
    names = tuple(f"x{j + 1}" for j in range(x.shape[1]))
    return Design(x=x, names=names, assign={nm: (j,) for j, nm in enumerate(names)})


def _check_rows(rows: int, n: int) -> None:
    if rows != n:
        raise ValueError(f"X has {rows} rows but time has {n}")


def _check_finite(x: FloatArray, names: list[str]) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"X has {int(bad.sum())} missing or infinite value(s), first in column "
            f"{names[col]!r} at row {row}; remove incomplete rows first"
        )


def _design_from_frame(frame: pd.DataFrame, reference: dict[str, Any], n: int) -> Design:
    _check_rows(frame.shape[0], n)
    unknown = set(reference) - {str(c) for c in frame.columns}
    if unknown:
        raise ValueError(f"reference names unknown column(s): {sorted(unknown)}")
    blocks: list[FloatArray] = []
    names: list[str] = []
    assign: dict[str, tuple[int, ...]] = {}
    for col in frame.columns:
        series = frame[col]
        label = str(col)
        missing = series.isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"column {label!r} has {int(missing.sum())} missing value(s), first at row "
                f"{int(np.flatnonzero(missing)[0])}; remove incomplete rows first"
            )
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            if label in reference:
                raise ValueError(f"column {label!r} is numeric; a reference level needs a factor")
            values = series.to_numpy(dtype=np.float64)
            _check_finite(values[:, None], [label])
            assign[label] = (len(names),)
            blocks.append(values[:, None])
            names.append(label)
            continue
        block, level_names = _treatment_contrasts(series, label, reference.get(label))
        assign[label] = tuple(range(len(names), len(names) + len(level_names)))
        blocks.append(block)
        names.extend(level_names)
    if not blocks:
        raise ValueError("X has no columns")
    return Design(x=np.hstack(blocks), names=tuple(names), assign=assign)


def _treatment_contrasts(series: pd.Series, label: str, ref: Any) -> tuple[FloatArray, list[str]]:
    """0/1 indicator columns for every level except the reference."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = list(series.cat.categories)
    else:
        levels = sorted(pd.unique(series.astype(object)), key=lambda v: (str(type(v)), v))
    if ref is None:
        ref = levels[0]
    elif ref not in levels:
        raise ValueError(f"reference level {ref!r} is not a level of column {label!r}: {levels}")
    values = series.to_numpy(dtype=object)
    kept = [lv for lv in levels if lv != ref]
    block = np.column_stack([(values == lv).astype(np.float64) for lv in kept]) if kept else None
    if block is None:
        raise ValueError(f"column {label!r} has a single level {ref!r}; it cannot be estimated")
    return block, [f"{label}{lv}" for lv in kept]


# ----------------------------------------------------------------------------- fit


def fit_cox(
    time: ArrayLike,
    event: ArrayLike,
    X: pd.DataFrame | ArrayLike,
    *,
    strata: ArrayLike | None = None,
    ties: Ties = "efron",
    reference: Mapping[str, Any] | None = None,
    conf_level: float = 0.95,
    eps: float = EPS_DEFAULT,
    toler_chol: float = TOLER_CHOL_DEFAULT,
    iter_max: int = ITER_MAX_DEFAULT,
    concordance: bool = True,
    start: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    cluster: ArrayLike | None = None,
    timefix: bool = False,
) -> CoxResult:
    """Fit a Cox proportional-hazards model as R ``coxph`` does (see the module docstring).

    Args:
        time: follow-up times (``>= 0``).
        event: 1 = event, 0 = censored (boolean accepted).
        X: covariates: a DataFrame (numeric columns as is, categorical/object columns as
            treatment contrasts) or a 2-D numeric array (columns named ``x1, x2, ...``).
        strata: optional stratum labels; each stratum has its own baseline hazard.
        ties: ``"efron"`` (default, as R) or ``"breslow"`` (SAS PHREG, statsmodels).
        reference: reference level per categorical column, e.g. ``{"arm": "A"}``.
        conf_level: level of the hazard-ratio confidence intervals (default 0.95).
        eps, toler_chol, iter_max: R ``coxph.control`` defaults (1e-9, eps^0.75, 20).
        concordance: compute Harrell's C and its standard error (default ``True``; not
            available for counting-process data, where it is ``None``).
        start: entry times for counting-process data ``(start, time]`` (delayed entry,
            time-varying covariates: one row per interval), as R
            ``coxph(Surv(start, stop, event) ~ ...)``; every row must have ``start < time``.
        weights: case weights (finite, > 0), as R ``coxph(weights = )``: each row's risk
            and event count that much; Efron's tied terms use the mean weight of the tied
            events (``coxfit6``). The variance is the inverse information (R's default
            without ``robust``); concordance is ``None`` with weights.
        cluster: cluster labels (e.g. patient for several rows each): the variance is
            then the robust sandwich with dfbeta residuals summed within clusters, as R
            ``coxph(..., cluster = id)``; it is also used, one cluster per row, when the
            weights are not whole numbers (R's default).
        timefix: merge times closer than ``sqrt(eps)`` first, as R's default
            ``coxph(timefix = TRUE)`` (:func:`~rechallenge.stats.survdata.timefix`);
            off by default (times compared exactly; whole-day data are unaffected).

    Returns:
        A :class:`CoxResult`. Warnings (:class:`MonotoneLikelihoodWarning`,
        :class:`CoxConvergenceWarning`) are issued and also stored in the result.

    Raises:
        ValueError: invalid input (message names the problem and the first bad row).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level}")
    if iter_max < 1:
        raise ValueError(f"iter_max must be >= 1, got {iter_max}")
    if timefix:
        time, start = survdata.timefix(time, start)
    data, design = _cox_data(time, event, X, strata, reference, start, weights)
    want_c = concordance and data.start is None and data.weights is None
    clusters = None
    if cluster is not None:
        labels = np.asarray(cluster, dtype=object)
        if labels.shape != (data.time.shape[0],):
            raise ValueError("cluster must have one label per row")
        if pd.isna(labels).any():
            raise ValueError("cluster has missing values; remove incomplete rows first")
        clusters = pd.factorize(labels)[0]
    # thin designs are memory-bound vector work: one BLAS thread (robust on a busy machine)
    with blas_threads(data.x.shape[1]):
        return _fit(data, design, ties, conf_level, eps, toler_chol, iter_max, want_c, clusters)


def _cox_data(
    time: ArrayLike,
    event: ArrayLike,
    X: pd.DataFrame | ArrayLike,
    strata: ArrayLike | None,
    reference: Mapping[str, Any] | None,
    start: ArrayLike | None = None,
    weights: ArrayLike | None = None,
) -> tuple[CoxData, Design]:
    """Validated data and design; validation temporaries (label copies) end here."""
    surv = as_survdata(time, event, strata=strata)
    entry = None if start is None else _readonly(check_start(start, surv.time))
    case_weight = None if weights is None else _readonly(_check_weights(weights, surv.n))
    design = build_design(X, reference, surv.n)
    codes = None if surv.strata is None else pd.factorize(surv.strata, sort=True)[0]
    data = CoxData(
        time=surv.time,
        event=surv.event,
        x=_readonly(design.x),
        strata=None if codes is None else _readonly(codes.astype(np.intp, copy=False)),
        start=entry,
        weights=case_weight,
    )
    return data, design


def _check_weights(weights: ArrayLike, n: int) -> FloatArray:
    """Case weights: one finite value > 0 per row (R refuses negative weights)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per row ({n}), got shape {w.shape}")
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise ValueError(
            f"weights must be finite and > 0; {int(bad.sum())} value(s) are not, first at row "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    return w


@dataclass
class _Newton:
    """Mutable state of the Newton–Raphson loop (internal)."""

    beta: FloatArray
    loglik: float
    deriv: kernel.Derivatives
    iterations: int = 0
    converged: bool = False


def _scaled_design(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Centre and scale the design as ``coxfit6`` does (step 2); copy only if a column changes.

    The design is often large and read-only; when every column is left alone (values only
    in {-1, 0, 1}) and it is already C-ordered float64, it is used as it is.
    """
    p = x.shape[1]
    means = np.zeros(p)
    scale = np.ones(p)
    centred = [j for j in range(p) if not np.isin(x[:, j], NOCENTER).all()]
    if not centred and x.dtype == np.float64 and x.flags.c_contiguous:
        return x, means, scale
    xs = np.array(x, dtype=np.float64, order="C", copy=True)
    n = xs.shape[0]
    for j in centred:
        col = xs[:, j]
        means[j] = col.mean()
        col -= means[j]
        total = np.abs(col).sum()
        scale[j] = n / total if total > 0 else 1.0
        col *= scale[j]
    return xs, means, scale


def _fit(
    data: CoxData,
    design: Design,
    ties: str,
    conf_level: float,
    eps: float,
    toler_chol: float,
    iter_max: int,
    want_concordance: bool,
    clusters: NDArray[np.intp] | None = None,
) -> CoxResult:
    """Fit on validated data (steps 2-7)."""
    layout = kernel.build_layout(
        data.time, data.event, data.strata, ties == "efron", start=data.start, weights=data.weights
    )
    xs, means, scale = _scaled_design(data.x)
    p = xs.shape[1]

    def evaluate(beta: FloatArray) -> kernel.Derivatives:
        # a trial step of a diverging fit may overflow exp(eta): the result is then not
        # finite and the step is halved, as in R
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return kernel.evaluate(layout, xs, beta)

    start = evaluate(np.zeros(p))
    chol0 = kernel.cholesky2(start.information, toler_chol)
    step0 = kernel.chsolve(chol0, start.score)
    score_stat = float(start.score @ step0)
    state = _newton(evaluate, start, step0, eps, toler_chol, iter_max)
    chol = kernel.cholesky2(state.deriv.information, toler_chol)
    var_s = _variance(state, chol, iter_max)
    # R marks singular columns only after convergence (coxfit6's flag 1000 skips it): a fit
    # that ran out of iterations keeps its coefficient (0 when never moved) and variance 0.
    singular = chol.redundant if state.converged else np.zeros(p, dtype=bool)
    coef = state.beta * scale
    var = var_s * np.outer(scale, scale)
    fractional = data.weights is not None and bool(np.any(data.weights != np.floor(data.weights)))
    if clusters is not None or fractional:
        # R's default with a cluster or non-integer case weights: the robust variance
        var = _robust_variance(layout, xs, state.beta, scale, var, data.weights, clusters)
    score_final = state.deriv.score / scale
    coef_out = np.where(singular, np.nan, coef)
    se = np.where(singular, np.nan, np.sqrt(np.diag(var)))
    df = int(p - singular.sum())
    lp_max = float(np.max(xs @ state.beta)) if data.time.shape[0] else 0.0
    messages = _fit_warnings(state, coef, var, score_final, eps, design.names, iter_max, lp_max)
    wald_stat = _wald(coef[~singular], var[np.ix_(~singular, ~singular)], toler_chol)
    lr_stat = 2.0 * (state.loglik - start.loglik)
    conc = None
    if want_concordance:
        used = np.where(singular, 0.0, coef)
        lp = data.x @ used - float(np.sum(used * means))
        conc = _concordance(data, lp)
    return CoxResult(
        terms=design.names,
        coef=_readonly(coef_out),
        se=_readonly(se),
        var=_readonly(var),
        conf_level=conf_level,
        loglik_null=start.loglik,
        loglik=state.loglik,
        lr=_chi2(lr_stat, df),
        wald=_chi2(wald_stat, df),
        score=_chi2(score_stat, df),
        concordance=conc,
        n=int(data.time.shape[0]),
        events=int(np.count_nonzero(data.event)),
        iterations=state.iterations,
        converged=state.converged,
        ties=ties,
        warnings=messages,
        assign=dict(design.assign),
        data=data,
    )


def _newton(
    evaluate: Any,
    start: kernel.Derivatives,
    step0: FloatArray,
    eps: float,
    toler_chol: float,
    iter_max: int,
) -> _Newton:
    """R's Newton–Raphson with step halving (step 4); returns the final state."""
    beta = np.zeros(step0.shape[0])
    state = _Newton(beta=beta, loglik=start.loglik, deriv=start)
    new_beta = beta + step0
    halving = 0
    for it in range(1, iter_max + 1):
        state.iterations = it
        deriv = evaluate(new_beta)
        finite = (
            math.isfinite(deriv.loglik)
            and bool(np.isfinite(deriv.score).all())
            and bool(np.isfinite(deriv.information).all())
        )
        if finite and _relative_change(state.loglik, deriv.loglik) <= eps:
            state.beta, state.loglik, state.deriv, state.converged = (
                new_beta,
                deriv.loglik,
                deriv,
                True,
            )
            return state
        if not finite or deriv.loglik < state.loglik:
            halving += 1
            new_beta = (new_beta + halving * state.beta) / (halving + 1.0)
            continue
        halving = 0
        step = kernel.chsolve(kernel.cholesky2(deriv.information, toler_chol), deriv.score)
        state.beta, state.loglik, state.deriv = new_beta, deriv.loglik, deriv
        new_beta = new_beta + step
    # R's loop counter ends one past the limit (coxph reports iter = iter.max + 1); the
    # derivatives are those of the last accepted beta (for iter.max > 1, as coxfit6).
    state.iterations = iter_max + 1
    if iter_max > 1:
        final = evaluate(state.beta)
        state.loglik, state.deriv = final.loglik, final
    return state


def _robust_variance(
    layout: kernel.RiskSetLayout,
    xs: FloatArray,
    beta_s: FloatArray,
    scale: FloatArray,
    var: FloatArray,
    weights: FloatArray | None,
    clusters: NDArray[np.intp] | None,
) -> FloatArray:
    """``D' D`` with ``D`` the weighted dfbeta residuals ``w_i r_i' V`` summed within
    clusters (one per row without ``clusters``); R ``coxph``'s robust variance."""
    resid = kernel.score_residuals(layout, xs, beta_s) / scale
    if weights is not None:
        resid *= weights[:, None]
    if clusters is not None:
        summed = np.zeros((int(clusters.max()) + 1, resid.shape[1]))
        np.add.at(summed, clusters, resid)
        resid = summed
    dfbeta = resid @ var
    return np.asarray(dfbeta.T @ dfbeta)


def _variance(state: _Newton, chol: kernel.Cholesky, iter_max: int) -> FloatArray:
    """Inverse information (scaled), or R's value when the iteration limit was reached.

    On running out of iterations, ``coxfit6`` recomputes the information at the last
    accepted beta and passes it to ``chinv2`` without factoring it first; ``chinv2`` then
    reads an empty lower triangle, so R's variance is ``diag(1 / I_jj)`` (0 where
    ``I_jj <= 0``). Equal to the inverse for one covariate; reproduced for every ``p``.
    """
    info = state.deriv.information
    if state.converged or iter_max <= 1:
        return kernel.chinv(info, chol)
    diag = np.diag(info)
    with np.errstate(divide="ignore"):
        return np.diag(np.where(diag > 0, 1.0 / diag, 0.0))


def _relative_change(old: float, new: float) -> float:
    """R's convergence measure |1 - old/new| with IEEE division: 0/0 is NaN and x/0 is
    infinite, so a log partial likelihood of exactly 0 (every event alone in its risk set)
    never counts as converged, as in R's coxfit6, instead of raising ZeroDivisionError."""
    if new == 0.0:
        return math.nan if old == 0.0 else math.inf
    return abs(1.0 - old / new)


def _fit_warnings(
    state: _Newton,
    coef: FloatArray,
    var: FloatArray,
    score: FloatArray,
    eps: float,
    names: tuple[str, ...],
    iter_max: int,
    lp_max: float,
) -> tuple[str, ...]:
    """R ``coxph.fit`` warnings (step 6), issued and returned.

    After convergence, a coefficient whose next Newton step is still large is named.
    On running out of iterations (``iter_max > 1``) R adds "one or more coefficients may
    be infinite" when the centred linear predictor exceeds 500 or a step is not finite.
    """
    messages: list[str] = []
    step = np.abs(score @ var)
    if not state.converged:
        msg = f"Ran out of iterations ({iter_max}) and did not converge"
        messages.append(msg)
        warnings.warn(msg, CoxConvergenceWarning, stacklevel=4)
        if iter_max > 1 and (lp_max > 500 or not np.isfinite(step).all()):
            msg = (
                "One or more coefficients may be infinite (monotone likelihood, e.g. a "
                "subgroup without events); consider the Firth fit"
            )
            messages.append(msg)
            warnings.warn(msg, MonotoneLikelihoodWarning, stacklevel=4)
        return tuple(messages)
    infinite = np.zeros(coef.shape[0], dtype=bool)
    if iter_max > 1:
        infinite = ~np.isfinite(score) | ((step > eps) & (step > math.sqrt(eps) * np.abs(coef)))
    if infinite.any():
        which = ", ".join(names[j] for j in np.flatnonzero(infinite))
        msg = (
            f"Loglik converged before variable(s) {which}; coefficient may be infinite "
            "(monotone likelihood, e.g. a subgroup without events); consider the Firth fit"
        )
        messages.append(msg)
        warnings.warn(msg, MonotoneLikelihoodWarning, stacklevel=4)
    return tuple(messages)


def _wald(coef: FloatArray, var: FloatArray, toler_chol: float) -> float:
    """``coef' var^- coef`` via ``cholesky2`` as R ``coxph.wtest``."""
    if coef.size == 0:
        return float("nan")
    chol = kernel.cholesky2(var, toler_chol)
    return float(coef @ kernel.chsolve(chol, coef))


def _chi2(stat: float, df: int) -> GlobalTest:
    p = float(stats.chi2.sf(stat, df)) if df > 0 and math.isfinite(stat) else float("nan")
    return GlobalTest(chi2=float(stat), df=df, p=p)


def _concordance(data: CoxData, lp: FloatArray) -> Concordance:
    """Harrell's C and its infinitesimal-jackknife SE (R ``concordancefit``, step 7)."""
    pairs = kernel.concordance_pairs(data.time, data.event, lp, data.strata)
    npair = pairs.concordant + pairs.discordant + pairs.tied_x
    if npair == 0:
        return Concordance(float("nan"), float("nan"), 0.0, 0.0, 0.0)
    somers = (pairs.concordant - pairs.discordant) / npair
    per = pairs.per_row
    dfbeta = ((per[:, 0] - per[:, 1]) - per.sum(axis=1) * somers) / (2.0 * npair)
    return Concordance(
        c=(somers + 1.0) / 2.0,
        se=float(np.sqrt(np.sum(dfbeta**2))),
        concordant=pairs.concordant,
        discordant=pairs.discordant,
        tied_x=pairs.tied_x,
    )
