"""Random- and common-effect meta-analysis of proportions and of published medians.

Arrays in, immutable results out, nothing clinical. Every number is checked against R
metafor 3.8 (``rma.uni``, ``escalc``, ``leave1out``, ``influence``, ``baujat``) by
``tests/reference/metafor.R``; see docs/meta-analysis.md for the algorithm in steps.

Public API:

- :func:`rma` — inverse-variance pooling of effect sizes ``yi`` with variances ``vi``:
  τ² by ``REML`` (default), ``DL``, ``PM``, ``ML`` or ``FE`` (common effect, τ² = 0);
  Wald (``z``) or Hartung–Knapp (``knha``) intervals; Q, I², H², prediction interval,
  study weights. Returns :class:`MetaFit`.
- :func:`escalc_proportions` — ``yi``/``vi`` for ``PLO`` (logit), ``PR`` (raw) or ``PFT``
  (Freeman–Tukey double arcsine), 1/2 added to both cells of studies with 0 or n events
  for PLO and PR only (metafor ``add = 1/2, to = "only0"``).
- :func:`meta_proportions` — the two above plus the back-transformation to proportions
  (PFT: harmonic mean of n, metafor ``transf.ipft.hm``). Returns :class:`ProportionMeta`.
- :func:`meta_medians` — pooled median survival from published medians and their CIs
  (inverse variance on the log median). Returns :class:`MedianMeta`.
- :func:`leave_one_out`, :func:`influence`, :func:`subgroups` — sensitivity analyses on a
  :class:`MetaFit`.

References:
    Viechtbauer W (2010) J Stat Softw 36(3):1–48 (metafor).
    DerSimonian R, Laird N (1986) Control Clin Trials 7:177–188.
    Paule RC, Mandel J (1982) J Res Natl Bur Stand 87:377–385.
    Hartung J, Knapp G (2001) Stat Med 20:3875–3889.
    Higgins JPT, Thompson SG (2002) Stat Med 21:1539–1558 (I², H²).
    Miller JJ (1978) Am Stat 32:138 (inverse of the double arcsine, harmonic mean of n).
    Viechtbauer W, Cheung MW-L (2010) Res Synth Methods 1:112–125 (influence).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq
from scipy.stats import chi2, norm, t

__all__ = [
    "MEASURES",
    "METHODS",
    "Influence",
    "LeaveOneOut",
    "MedianMeta",
    "MetaFit",
    "ProportionMeta",
    "StudyEstimate",
    "SubgroupResult",
    "back_transform",
    "escalc_proportions",
    "influence",
    "leave_one_out",
    "log_median_se",
    "meta_medians",
    "meta_proportions",
    "rma",
    "subgroups",
]

Measure = Literal["PLO", "PR", "PFT"]
Method = Literal["REML", "DL", "PM", "ML", "FE"]
MEASURES: Final[tuple[str, ...]] = ("PLO", "PR", "PFT")
METHODS: Final[tuple[str, ...]] = ("REML", "DL", "PM", "ML", "FE")

#: Root-finding tolerance on τ² (metafor's defaults, 1e-5 and eps^0.25, stop earlier).
TAU2_XTOL: Final[float] = 1e-15
#: The upper end of the τ² search grows by doubling from 1 up to this bound.
TAU2_MAX: Final[float] = 1e8

FloatArray = NDArray[np.float64]


# ---- the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaFit:
    """One fitted intercept-only meta-analytic model, on the model (transformed) scale.

    ``weights`` are percentages (metafor ``weights()``); ``df`` is ``k - 1`` with
    Hartung–Knapp and ``None`` with the Wald (z) test; ``s2w`` is the Hartung–Knapp
    scaling factor (1 for the z test).
    """

    k: int
    method: str
    test: str
    conf_level: float
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    z: float
    p: float
    tau2: float
    Q: float
    Q_df: int
    Q_p: float
    I2: float
    H2: float
    pi_lower: float
    pi_upper: float
    weights: tuple[float, ...]
    s2w: float
    df: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def _as_float(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers")
    return arr


def _check_common(method: str, conf_level: float) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")


def _pooled(yi: FloatArray, vi: FloatArray, tau2: float) -> tuple[float, float, FloatArray]:
    """Weighted mean, the sum of weights and the weights ``1 / (vi + tau2)``."""
    w = 1.0 / (vi + tau2)
    return float(np.sum(w * yi) / np.sum(w)), float(np.sum(w)), w


def _q(yi: FloatArray, vi: FloatArray, tau2: float) -> float:
    """Generalised Q: ``sum(w (y - mu)^2)`` with ``w = 1 / (vi + tau2)``."""
    mu, _, w = _pooled(yi, vi, tau2)
    return float(np.sum(w * (yi - mu) ** 2))


def _reml_score(tau2: float, yi: FloatArray, vi: FloatArray) -> float:
    """Twice the derivative of the restricted log-likelihood in τ²: ``Y'PPY - tr(P)``."""
    mu, sw, w = _pooled(yi, vi, tau2)
    return float(np.sum(w**2 * (yi - mu) ** 2) - (sw - np.sum(w**2) / sw))


def _ml_score(tau2: float, yi: FloatArray, vi: FloatArray) -> float:
    """Twice the derivative of the log-likelihood in τ²: ``sum(w^2 r^2) - sum(w)``."""
    mu, sw, w = _pooled(yi, vi, tau2)
    return float(np.sum(w**2 * (yi - mu) ** 2) - sw)


def _root(f: Any, *args: Any) -> float:
    """τ² where ``f`` changes sign from positive (at 0) to negative; 0 if ``f(0) <= 0``."""
    if f(0.0, *args) <= 0.0:
        return 0.0
    hi = 1.0
    while f(hi, *args) > 0.0:
        hi *= 2.0
        if hi > TAU2_MAX:
            raise ArithmeticError("tau^2 search did not bracket a root")
    return float(brentq(f, 0.0, hi, args=args, xtol=TAU2_XTOL, rtol=4 * np.finfo(float).eps))


def _tau2(yi: FloatArray, vi: FloatArray, method: str) -> float:
    """Between-study variance by the named estimator (truncated at 0)."""
    k = yi.size
    if method == "FE":
        return 0.0
    if method == "DL":
        w = 1.0 / vi
        sw = float(np.sum(w))
        return max(0.0, (_q(yi, vi, 0.0) - (k - 1)) / (sw - float(np.sum(w**2)) / sw))
    if method == "PM":
        return _root(lambda x: _q(yi, vi, x) - (k - 1))
    if method == "REML":
        return _root(_reml_score, yi, vi)
    return _root(_ml_score, yi, vi)


def rma(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    method: Method | str = "REML",
    knha: bool = False,
    conf_level: float = 0.95,
) -> MetaFit:
    """Intercept-only meta-analysis, as metafor ``rma(yi, vi, method=, test=)``.

    1. τ² by ``method`` (REML/ML: root of the score, PM: ``Q(τ²) = k - 1``; DL: moment
       estimator; FE: 0), each truncated at 0 and solved to ``TAU2_XTOL``.
    2. ``w_i = 1 / (v_i + τ²)``; ``mu = sum(w y) / sum(w)``; ``se = sqrt(1 / sum(w))``.
    3. Hartung–Knapp (``knha``): ``se *= sqrt(s2w)`` with
       ``s2w = sum(w (y - mu)^2) / (k - 1)``, quantiles of t with ``k - 1`` df; else z.
    4. Q with fixed-effect weights ``1 / v_i``, ``Q_p`` from chi-square on ``k - 1`` df.
    5. I² = ``100 τ² / (τ² + v~)``, H² = ``(τ² + v~) / v~`` with the typical within-study
       variance ``v~ = (k - 1) sum(w) / ((sum w)^2 - sum(w^2))``; for FE
       I² = ``max(0, 100 (Q - (k-1)) / Q)``, H² = ``Q / (k - 1)``.
    6. Prediction interval ``mu ± crit sqrt(se² + τ²)``; weights ``100 w / sum(w)``.
    """
    _check_common(method, conf_level)
    y, v = _as_float(yi, "yi"), _as_float(vi, "vi")
    if y.size != v.size:
        raise ValueError("yi and vi must have the same length")
    if y.size < 2:
        raise ValueError("a meta-analysis needs at least 2 studies")
    if np.any(v <= 0.0):
        raise ValueError("sampling variances vi must be > 0")
    k = int(y.size)
    tau2 = _tau2(y, v, method)
    mu, sw, w = _pooled(y, v, tau2)
    vb = 1.0 / sw
    s2w = 1.0
    df: int | None = None
    if knha:
        rss = float(np.sum(w * (y - mu) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
        vb *= s2w
        df = k - 1
    se = math.sqrt(vb)
    alpha = 1.0 - conf_level
    crit = float(t.ppf(1 - alpha / 2, df) if df is not None else norm.ppf(1 - alpha / 2))
    stat = mu / se if se > 0 else math.copysign(math.inf, mu)
    p = float(2 * (t.sf(abs(stat), df) if df is not None else norm.sf(abs(stat))))
    q = _q(y, v, 0.0)
    w0 = 1.0 / v
    if method == "FE":
        i2 = max(0.0, 100.0 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
    else:
        vt = (k - 1) * float(np.sum(w0)) / (float(np.sum(w0)) ** 2 - float(np.sum(w0**2)))
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1.0
    half_pi = crit * math.sqrt(vb + tau2)
    return MetaFit(
        k=k,
        method=method,
        test="knha" if knha else "z",
        conf_level=conf_level,
        yi=tuple(float(x) for x in y),
        vi=tuple(float(x) for x in v),
        estimate=mu,
        se=se,
        ci_lower=mu - crit * se,
        ci_upper=mu + crit * se,
        z=stat,
        p=p,
        tau2=tau2,
        Q=q,
        Q_df=k - 1,
        Q_p=float(chi2.sf(q, k - 1)),
        I2=i2,
        H2=h2,
        pi_lower=mu - half_pi,
        pi_upper=mu + half_pi,
        weights=tuple(float(x) for x in 100.0 * w / sw),
        s2w=s2w,
        df=df,
    )


def _refit(fit: MetaFit, keep: NDArray[np.bool_]) -> MetaFit:
    y, v = np.asarray(fit.yi), np.asarray(fit.vi)
    return rma(
        y[keep], v[keep], method=fit.method, knha=fit.test == "knha", conf_level=fit.conf_level
    )


# ---- sensitivity analyses ---------------------------------------------------------------


@dataclass(frozen=True)
class LeaveOneOut:
    """The model refitted without one study (metafor ``leave1out``), model scale."""

    omitted: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    tau2: float
    I2: float
    Q: float
    Q_p: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def leave_one_out(fit: MetaFit) -> tuple[LeaveOneOut, ...]:
    """Refit without each study in turn (needs ``k >= 3``: two studies remain)."""
    if fit.k < 3:
        raise ValueError("leave-one-out needs at least 3 studies")
    out = []
    for i in range(fit.k):
        keep = np.ones(fit.k, dtype=bool)
        keep[i] = False
        r = _refit(fit, keep)
        out.append(
            LeaveOneOut(i, r.estimate, r.se, r.ci_lower, r.ci_upper, r.tau2, r.I2, r.Q, r.Q_p)
        )
    return tuple(out)


@dataclass(frozen=True)
class Influence:
    """Case diagnostics of one study, as metafor ``influence()`` and ``baujat()``.

    ``rstudent`` (externally standardised residual), ``dffits``, ``cook_d``, ``cov_r``,
    ``tau2_del`` and ``QE_del`` (τ² and Q without the study), ``hat`` and ``weight`` (%),
    ``baujat_x`` (contribution to Q: ``r_i^2 / (v_i + τ²)``) and ``baujat_y`` (influence on
    the pooled estimate: ``(mu_-i - mu)^2 / var(mu_-i)``).
    """

    study: int
    rstudent: float
    dffits: float
    cook_d: float
    cov_r: float
    tau2_del: float
    QE_del: float
    hat: float
    weight: float
    baujat_x: float
    baujat_y: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def influence(fit: MetaFit) -> tuple[Influence, ...]:
    """Leave-one-out case diagnostics (needs ``k >= 3``), as metafor 3.8 defines them."""
    if fit.k < 3:
        raise ValueError("influence diagnostics need at least 3 studies")
    y, v = np.asarray(fit.yi), np.asarray(fit.vi)
    vb = fit.se**2
    out = []
    for i in range(fit.k):
        keep = np.ones(fit.k, dtype=bool)
        keep[i] = False
        r = _refit(fit, keep)
        hat = fit.weights[i] / 100.0
        vdel = r.se**2
        resid = y[i] - r.estimate
        if abs(resid) < 100 * np.finfo(float).eps:
            resid = 0.0
        se_resid = math.sqrt(v[i] * r.s2w + vdel + r.tau2 * r.s2w)
        dffits = (fit.estimate - r.estimate) / math.sqrt(r.s2w * hat * (r.tau2 + v[i]))
        out.append(
            Influence(
                study=i,
                rstudent=resid / se_resid,
                dffits=dffits,
                cook_d=(fit.estimate - r.estimate) ** 2 / vb,
                cov_r=vdel / vb,
                tau2_del=r.tau2,
                QE_del=r.Q,
                hat=hat,
                weight=fit.weights[i],
                baujat_x=(y[i] - fit.estimate) ** 2 / (fit.tau2 + v[i]),
                baujat_y=(r.estimate - fit.estimate) ** 2 / vdel,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class SubgroupResult:
    """Separate models per level of one categorical moderator, and the test between them.

    ``Q_between`` is the Q statistic of a common-effect model of the level estimates with
    their standard errors (each level with its own τ²), on ``levels - 1`` df.
    """

    levels: tuple[str, ...]
    fits: tuple[MetaFit | None, ...]
    estimates: tuple[float, ...]
    ses: tuple[float, ...]
    ks: tuple[int, ...]
    Q_between: float
    Q_between_df: int
    Q_between_p: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def subgroups(fit: MetaFit, groups: Sequence[str]) -> SubgroupResult:
    """Pool each level of ``groups`` separately and test the levels against each other.

    A level with one study keeps that study's ``yi`` and ``sqrt(vi)`` (no model, ``fits``
    entry ``None``). Needs at least two levels.
    """
    g = np.asarray([str(x) for x in groups])
    if g.size != fit.k:
        raise ValueError("groups must have one entry per study")
    levels = tuple(dict.fromkeys(g.tolist()))
    if len(levels) < 2:
        raise ValueError("a moderator needs at least 2 levels")
    y, v = np.asarray(fit.yi), np.asarray(fit.vi)
    fits: list[MetaFit | None] = []
    est, ses, ks = [], [], []
    for level in levels:
        keep = g == level
        if int(keep.sum()) == 1:
            fits.append(None)
            est.append(float(y[keep][0]))
            ses.append(math.sqrt(float(v[keep][0])))
        else:
            r = _refit(fit, keep)
            fits.append(r)
            est.append(r.estimate)
            ses.append(r.se)
        ks.append(int(keep.sum()))
    between = rma(est, np.asarray(ses) ** 2, method="FE")
    return SubgroupResult(
        levels,
        tuple(fits),
        tuple(est),
        tuple(ses),
        tuple(ks),
        between.Q,
        between.Q_df,
        between.Q_p,
    )


# ---- proportions ------------------------------------------------------------------------


def _check_counts(events: ArrayLike, n: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, m = _as_float(events, "events"), _as_float(n, "n")
    if x.size != m.size:
        raise ValueError("events and n must have the same length")
    if np.any(x != np.round(x)) or np.any(m != np.round(m)):
        raise ValueError("events and n must be whole numbers")
    if np.any(m < 1) or np.any(x < 0) or np.any(x > m):
        raise ValueError("need 0 <= events <= n and n >= 1 in every study")
    return x, m


def escalc_proportions(
    events: ArrayLike, n: ArrayLike, measure: Measure | str = "PLO"
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """``(yi, vi, adjusted)`` as metafor ``escalc(measure, xi, ni, add=1/2, to="only0")``.

    PLO: ``log(x / (n - x))``, ``1/x + 1/(n - x)``. PR: ``x / n``, ``p (1 - p) / n``.
    PFT: ``(asin(sqrt(x / (n+1))) + asin(sqrt((x+1) / (n+1)))) / 2``, ``1 / (4n + 2)``.
    For PLO and PR a study with 0 or n events gets 1/2 added to events and non-events
    (``adjusted`` marks them); PFT needs no adjustment.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    x, m = _check_counts(events, n)
    if measure == "PFT":
        yi = 0.5 * (np.arcsin(np.sqrt(x / (m + 1))) + np.arcsin(np.sqrt((x + 1) / (m + 1))))
        return yi, 1.0 / (4 * m + 2), np.zeros(x.size, dtype=bool)
    adjusted = (x == 0) | (x == m)
    xa = np.where(adjusted, x + 0.5, x)
    na = np.where(adjusted, m + 1.0, m)
    p = xa / na
    if measure == "PLO":
        return np.log(xa / (na - xa)), 1.0 / xa + 1.0 / (na - xa), adjusted
    return p, p * (1 - p) / na, adjusted


def _pft(p: float, n: float) -> float:
    x = p * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def _ipft(z: float, n: float) -> float:
    """Inverse double arcsine for sample size ``n`` (Miller 1978; metafor ``transf.ipft``)."""
    if z > _pft(1.0, n):
        return 1.0
    if z < _pft(0.0, n):
        return 0.0
    s = math.sin(2 * z)
    inner = 1 - (s + (s - 1 / s) / n) ** 2
    return 0.5 * (1 - math.copysign(1.0, math.cos(2 * z)) * math.sqrt(max(inner, 0.0)))


def back_transform(measure: Measure | str, value: float, n: float | None = None) -> float:
    """A model-scale value as a proportion: PLO inverse logit, PR clipped to [0, 1], PFT
    the inverse double arcsine at sample size ``n`` (the harmonic mean for pooled values)."""
    if measure == "PLO":
        return float(1.0 / (1.0 + math.exp(-value)))
    if measure == "PR":
        return min(1.0, max(0.0, value))
    if n is None:
        raise ValueError("PFT needs a sample size to back-transform")
    return _ipft(value, n)


@dataclass(frozen=True)
class StudyEstimate:
    """One study's estimate and confidence interval on the reported scale; weight in %."""

    study: str
    events: float | None
    n: float | None
    estimate: float
    ci_lower: float
    ci_upper: float
    weight: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class ProportionMeta:
    """A pooled proportion: the model fit, back-transformed summaries and study rows.

    ``pooled``/``prediction`` are proportions; ``n_harmonic`` is the harmonic mean of n used
    to back-transform PFT values (``None`` for PLO and PR); ``adjusted`` names the studies
    that had 1/2 added.
    """

    measure: str
    fit: MetaFit
    pooled: float
    pooled_lower: float
    pooled_upper: float
    prediction_lower: float
    prediction_upper: float
    studies: tuple[StudyEstimate, ...]
    adjusted: tuple[str, ...]
    n_harmonic: float | None

    def back(self, value: float) -> float:
        """A model-scale value of this analysis as a proportion."""
        return back_transform(self.measure, value, self.n_harmonic)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``rechallenge meta proportions --json`` (unrounded)."""
        return pooled_json(self, self.measure, [s.to_dict() for s in self.studies])


def _labels(study: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if study is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    labels = tuple(str(s) for s in study)
    if len(labels) != k:
        raise ValueError("study must have one label per study")
    return labels


def meta_proportions(
    events: ArrayLike,
    n: ArrayLike,
    *,
    study: Sequence[str] | None = None,
    measure: Measure | str = "PLO",
    method: Method | str = "REML",
    knha: bool = False,
    conf_level: float = 0.95,
) -> ProportionMeta:
    """Pool proportions ``events / n`` across studies.

    1. ``yi``, ``vi`` by :func:`escalc_proportions`.
    2. :func:`rma` on the model scale.
    3. Back-transform the pooled estimate, its CI and the prediction interval
       (:func:`back_transform`; PFT at the harmonic mean of n, metafor ``transf.ipft.hm``).
    4. Each study: ``yi ± z sqrt(vi)`` back-transformed (PFT at the study's own n,
       metafor ``transf.ipft``), so a study with 0 events under PLO shows the adjusted
       proportion ``0.5 / (n + 1)``; weight in percent.
    """
    _check_common(method, conf_level)
    x, m = _check_counts(events, n)
    labels = _labels(study, x.size)
    yi, vi, adjusted = escalc_proportions(x, m, measure)
    fit = rma(yi, vi, method=method, knha=knha, conf_level=conf_level)
    nhm = float(1.0 / np.mean(1.0 / m)) if measure == "PFT" else None
    z = float(norm.ppf(1 - (1 - conf_level) / 2))
    rows = []
    for i in range(fit.k):
        ni = float(m[i]) if measure == "PFT" else None
        half = z * math.sqrt(vi[i])
        rows.append(
            StudyEstimate(
                labels[i],
                float(x[i]),
                float(m[i]),
                back_transform(measure, float(yi[i]), ni),
                back_transform(measure, float(yi[i]) - half, ni),
                back_transform(measure, float(yi[i]) + half, ni),
                fit.weights[i],
            )
        )
    return ProportionMeta(
        measure=measure,
        fit=fit,
        pooled=back_transform(measure, fit.estimate, nhm),
        pooled_lower=back_transform(measure, fit.ci_lower, nhm),
        pooled_upper=back_transform(measure, fit.ci_upper, nhm),
        prediction_lower=back_transform(measure, fit.pi_lower, nhm),
        prediction_upper=back_transform(measure, fit.pi_upper, nhm),
        studies=tuple(rows),
        adjusted=tuple(lab for lab, a in zip(labels, adjusted, strict=True) if a),
        n_harmonic=nhm,
    )


# ---- medians ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MedianMeta:
    """A pooled median (e.g. months of PFS) from published medians with CIs.

    ``pooled``/``prediction`` are on the median's own scale (exp of the log-scale model);
    ``fit`` is the log-scale model.
    """

    fit: MetaFit
    ci_level_published: float
    pooled: float
    pooled_lower: float
    pooled_upper: float
    prediction_lower: float
    prediction_upper: float
    studies: tuple[StudyEstimate, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``rechallenge meta medians --json`` (unrounded)."""
        studies = [
            {k: v for k, v in s.to_dict().items() if k not in ("events", "n")} for s in self.studies
        ]
        return pooled_json(self, "log median", studies)


def log_median_se(lower: ArrayLike, upper: ArrayLike, ci_level: float = 0.95) -> FloatArray:
    """SE of the log median from a published CI: ``(log U - log L) / (2 z)``.

    Assumes the interval is symmetric on the log scale (log-normal sampling of the median).
    """
    lo, up = _as_float(lower, "lower"), _as_float(upper, "upper")
    if np.any(lo <= 0) or np.any(up <= lo):
        raise ValueError("CI bounds must satisfy 0 < lower < upper")
    z = float(norm.ppf(1 - (1 - ci_level) / 2))
    se: FloatArray = (np.log(up) - np.log(lo)) / (2 * z)
    return se


def meta_medians(
    median: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    study: Sequence[str] | None = None,
    method: Method | str = "REML",
    knha: bool = False,
    conf_level: float = 0.95,
    ci_level: float = 0.95,
) -> MedianMeta:
    """Pool published medians by inverse variance on the log median.

    1. ``yi = log(median)``; ``se_i = (log U_i - log L_i) / (2 z_{ci_level})``.
    2. :func:`rma` with ``vi = se_i^2``.
    3. ``exp`` of the pooled estimate, CI and prediction interval; the studies keep their
       published median and CI.

    Assumptions: each CI is symmetric on the log scale at ``ci_level`` (Brookmeyer–
    Crowley intervals are often not), medians of independent cohorts, and a log-normal
    sampling distribution of the median. Studies without both bounds must be left out by
    the caller (an upper bound "not reached" gives no SE).
    """
    _check_common(method, conf_level)
    med = _as_float(median, "median")
    lo, up = _as_float(lower, "lower"), _as_float(upper, "upper")
    if not (med.size == lo.size == up.size):
        raise ValueError("median, lower and upper must have the same length")
    if np.any(med <= 0) or np.any(med < lo) or np.any(med > up):
        raise ValueError("need 0 < lower <= median <= upper in every study")
    labels = _labels(study, med.size)
    se = log_median_se(lo, up, ci_level)
    fit = rma(np.log(med), se**2, method=method, knha=knha, conf_level=conf_level)
    rows = tuple(
        StudyEstimate(
            labels[i], None, None, float(med[i]), float(lo[i]), float(up[i]), fit.weights[i]
        )
        for i in range(fit.k)
    )
    return MedianMeta(
        fit=fit,
        ci_level_published=ci_level,
        pooled=math.exp(fit.estimate),
        pooled_lower=math.exp(fit.ci_lower),
        pooled_upper=math.exp(fit.ci_upper),
        prediction_lower=math.exp(fit.pi_lower),
        prediction_upper=math.exp(fit.pi_upper),
        studies=rows,
    )


class _Pooled(Protocol):
    """What `pooled_json` reads of a pooled result (the frozen result classes above)."""

    @property
    def fit(self) -> MetaFit: ...
    @property
    def pooled(self) -> float: ...
    @property
    def pooled_lower(self) -> float: ...
    @property
    def pooled_upper(self) -> float: ...
    @property
    def prediction_lower(self) -> float: ...
    @property
    def prediction_upper(self) -> float: ...


def pooled_json(result: _Pooled, measure: str, studies: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON keys every ``rechallenge meta`` command shares (unrounded): pooled estimate
    on both scales, heterogeneity, prediction interval and the study rows given."""
    f = result.fit
    return {
        "k": f.k,
        "measure": measure,
        "method": f.method,
        "pooled": {
            "estimate": result.pooled,
            "ci_lower": result.pooled_lower,
            "ci_upper": result.pooled_upper,
        },
        "pooled_transformed": {
            "estimate": f.estimate,
            "se": f.se,
            "ci_lower": f.ci_lower,
            "ci_upper": f.ci_upper,
        },
        "tau2": f.tau2,
        "I2": f.I2,
        "H2": f.H2,
        "Q": f.Q,
        "Q_df": f.Q_df,
        "Q_p": f.Q_p,
        "prediction": {"lower": result.prediction_lower, "upper": result.prediction_upper},
        "studies": studies,
    }
