"""Multivariable prognostic Cox models: restricted cubic splines and the events-per-variable
guard. Arrays and frames in, results out; nothing clinical.

**Restricted cubic splines** as R ``rms::rcs`` (``Hmisc::rcspline.eval``, ``norm = 2``):

1. knots at quantiles (R type 7) ``seq(outer, 1 - outer, length = k)`` of the values,
   ``outer`` 0.1 for 3 knots, 0.05 for 4–6, 0.025 for 7 or more; when fewer than 100
   values, the outer knots move to the 5th smallest and 5th largest; an end value held by
   at least ``fractied`` (5 %) of the rows becomes a knot of its own beside the nearest
   other value (if no interior value is that frequent); with ``k + 2`` or fewer distinct
   values the knots are the interior distinct values;
2. the basis is ``x`` and, for ``j = 1..k-2``,
   ``(x - t_j)+³ + ((t_{k-1} - t_j)(x - t_k)+³ - (t_k - t_j)(x - t_{k-1})+³) / (t_k - t_{k-1})``
   with every ``(x - t)`` divided by ``(t_k - t_1)^(2/3)``; columns are named
   ``x, x', x'', …`` as rms prints them.

**Events per variable**: the model's degrees of freedom (one per numeric term, levels − 1
per factor, knots − 1 per spline) against the number of events; below ``min_epv``
(default 10, Peduzzi et al. 1996) a :class:`LowEventsPerVariableWarning` says how many
events there are per degree of freedom and what to do (fewer terms, or penalised Cox).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from rechallenge.stats.cox import CoxResult, fit_cox

FloatArray = NDArray[np.float64]


class LowEventsPerVariableWarning(UserWarning):
    """Too few events per model degree of freedom for a stable multivariable fit."""


def _quantile7(x: FloatArray, p: FloatArray) -> FloatArray:
    return np.quantile(x, p, method="linear")


def rcs_knots(x: ArrayLike, nk: int = 5, *, fractied: float = 0.05) -> FloatArray:
    """Default knot locations of ``rms::rcs(x, nk)`` (see the module docstring)."""
    xx = np.asarray(x, dtype=float).ravel()
    xx = xx[~np.isnan(xx)]
    n = xx.size
    if n < 6:
        raise ValueError("need at least 6 non-missing values to place spline knots")
    if nk < 3:
        raise ValueError(f"nk must be >= 3, got {nk}")
    xu = np.unique(xx)
    if xu.size - 2 <= nk:
        knots = xu[1:-1]
    else:
        outer = 0.025 if nk > 6 else (0.05 if nk > 3 else 0.1)
        nke = nk
        first: list[float] = []
        last: list[float] = []
        override_first = override_last = False
        if 0 < fractied < 1:
            values, counts = np.unique(xx, return_counts=True)
            freq = counts / n
            if freq[1:-1].max(initial=0.0) < fractied:
                if freq[0] >= fractied:
                    first = [float(values[1])]
                    xx = xx[xx > first[0]]
                    nke -= 1
                    override_first = True
                if freq[-1] >= fractied:
                    last = [float(values[-2])]
                    xx = xx[xx < last[0]]
                    nke -= 1
                    override_last = True
        if nke == 1:
            inner = np.array([np.median(xx)])
        elif xu.size <= nke:
            inner = xu
        else:
            lo = 0.5 if nke == 2 else outer
            inner = _quantile7(xx, np.linspace(lo, 1 - outer, nke))
            if np.unique(inner).size < min(nke, 3):
                raise ValueError("could not place distinct knots: too many tied values")
            if xx.size < 100:
                srt = np.sort(xx)
                if not override_first:
                    inner[0] = srt[4]
                if not override_last:
                    inner[-1] = srt[-5]
        knots = np.concatenate([first, inner, last])
    knots = np.unique(knots)
    if knots.size < 3:
        raise ValueError("fewer than 3 distinct knots")
    return knots


def rcs_basis(x: ArrayLike, knots: ArrayLike) -> FloatArray:
    """``rms::rcs`` basis (``norm = 2``): ``x`` then ``k - 2`` non-linear columns."""
    xv = np.asarray(x, dtype=float).ravel()
    t = np.asarray(knots, dtype=float).ravel()
    k = t.size
    if k < 3:
        raise ValueError("need at least 3 knots")
    kd = (t[-1] - t[0]) ** (2.0 / 3.0)

    def cube(v: FloatArray) -> FloatArray:
        return np.maximum(v / kd, 0.0) ** 3

    cols = [xv]
    for j in range(k - 2):
        cols.append(
            cube(xv - t[j])
            + ((t[-2] - t[j]) * cube(xv - t[-1]) - (t[-1] - t[j]) * cube(xv - t[-2]))
            / (t[-1] - t[-2])
        )
    return np.column_stack(cols)


def rcs_names(name: str, nk: int) -> list[str]:
    """Column names as rms prints them: ``age, age', age''``."""
    return [name + "'" * j for j in range(nk - 1)]


def model_df(frame: pd.DataFrame, splines: Mapping[str, int] | None = None) -> int:
    """Degrees of freedom of a model on ``frame``'s columns (factors: levels − 1)."""
    splines = dict(splines or {})
    df = 0
    for col in frame.columns:
        s = frame[col]
        if col in splines:
            df += splines[col] - 1
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            df += 1
        else:
            df += max(int(s.nunique(dropna=True)) - 1, 1)
    return df


def check_events_per_variable(events: int, df: int, *, min_epv: float = 10.0) -> float:
    """Events per degree of freedom; warn (:class:`LowEventsPerVariableWarning`) if low."""
    if df < 1:
        raise ValueError("the model has no terms")
    epv = events / df
    if epv < min_epv:
        warnings.warn(
            f"{events} events for {df} model degrees of freedom ({epv:.1f} per degree of "
            f"freedom, below {min_epv:g}): estimates may be unstable and over-fitted; use "
            "fewer terms or a penalised Cox model",
            LowEventsPerVariableWarning,
            stacklevel=2,
        )
    return epv


@dataclass(frozen=True)
class PrognosticFit:
    """A multivariable Cox fit with its spline knots and events-per-variable figure."""

    cox: CoxResult
    knots: dict[str, list[float]]
    df: int
    events_per_variable: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "cox": self.cox.to_dict(),
            "knots": self.knots,
            "df": self.df,
            "events_per_variable": self.events_per_variable,
        }


def spline_design(
    frame: pd.DataFrame, splines: Mapping[str, int], knots: Mapping[str, ArrayLike] | None = None
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    """``frame`` with each spline column replaced by its rcs basis columns."""
    out = pd.DataFrame(index=frame.index)
    used: dict[str, list[float]] = {}
    for col in frame.columns:
        if col not in splines:
            out[col] = frame[col]
            continue
        kn = (
            np.asarray(knots[col], dtype=float)
            if knots is not None and col in knots
            else rcs_knots(frame[col].to_numpy(dtype=float), splines[col])
        )
        basis = rcs_basis(frame[col].to_numpy(dtype=float), kn)
        for j, name in enumerate(rcs_names(col, kn.size)):
            out[name] = basis[:, j]
        used[col] = kn.tolist()
    return out, used


def fit_prognostic_cox(
    time: ArrayLike,
    event: ArrayLike,
    frame: pd.DataFrame,
    *,
    splines: Mapping[str, int] | None = None,
    min_epv: float = 10.0,
    reference: Mapping[str, Any] | None = None,
) -> PrognosticFit:
    """Multivariable Cox model (Efron), continuous columns in ``splines`` as rcs terms."""
    splines = dict(splines or {})
    missing = [c for c in splines if c not in frame.columns]
    if missing:
        raise ValueError(f"spline columns not in the data: {missing}")
    design, knots = spline_design(frame, splines)
    df = model_df(frame, {c: len(k) for c, k in knots.items()})
    events = int(np.asarray(event, dtype=float).sum())
    epv = check_events_per_variable(events, df, min_epv=min_epv)
    cox = fit_cox(time, event, design, reference=reference)
    return PrognosticFit(cox, knots, df, epv)


@dataclass(frozen=True)
class Nomogram:
    """Points scales of a nomogram (rms ``nomogram``'s layout, ``maxscale`` points).

    ``axes[name] = (values, points)``; the term whose contribution to the linear
    predictor varies most over its values spans ``0..maxscale``, the others are on the same
    scale (``points_per_unit`` points per unit of linear predictor). A linear predictor
    ``lp`` (centred as the model's, ``center`` subtracted) sits at total points
    ``(lp - lp_at_zero_points) * points_per_unit``.
    """

    axes: dict[str, tuple[list[float], list[float]]]
    points_per_unit: float
    lp_at_zero_points: float

    def lp_to_points(self, lp: ArrayLike) -> FloatArray:
        """Total points of linear-predictor values."""
        return (np.asarray(lp, dtype=float) - self.lp_at_zero_points) * self.points_per_unit

    def points_to_lp(self, points: ArrayLike) -> FloatArray:
        """Linear predictor of total points."""
        return np.asarray(points, dtype=float) / self.points_per_unit + self.lp_at_zero_points

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "axes": {k: {"values": v[0], "points": v[1]} for k, v in self.axes.items()},
            "points_per_unit": self.points_per_unit,
            "lp_at_zero_points": self.lp_at_zero_points,
        }


def nomogram(
    fit: PrognosticFit,
    values: Mapping[str, ArrayLike],
    *,
    factors: Mapping[str, Sequence[str]] | None = None,
    center: float = 0.0,
    maxscale: float = 100.0,
) -> Nomogram:
    """Nomogram scales for the numeric and spline terms of ``fit`` at the given values.

    ``factors`` names each factor's indicator terms (``{"ecog": ["ecog=1", "ecog=2"]}``):
    a factor is one axis, as rms draws it, whose values are its levels' positions (0 the
    reference, then the indicators in order) and whose contributions are 0 and the
    indicators' coefficients; its range over the levels competes for the widest axis.
    ``center`` is the mean linear predictor of the fitting data (rms ``cph``'s
    ``center``), so that the linear-predictor axis is on the centred scale rms shows.
    """
    terms = list(fit.cox.terms)
    coef = np.asarray(fit.cox.coef, dtype=float)
    contributions: dict[str, tuple[FloatArray, FloatArray]] = {}
    for name, indicators in (factors or {}).items():
        unknown = [t for t in indicators if t not in terms]
        if unknown:
            raise ValueError(f"factor {name!r}: {unknown} are not terms of the model")
        levels = np.arange(len(indicators) + 1, dtype=float)
        contributions[name] = (
            levels,
            np.concatenate([[0.0], coef[[terms.index(t) for t in indicators]]]),
        )
    for name, vals in values.items():
        v = np.asarray(vals, dtype=float).ravel()
        if name in fit.knots:
            cols = [terms.index(c) for c in rcs_names(name, len(fit.knots[name]))]
            contrib = rcs_basis(v, fit.knots[name]) @ coef[cols]
        elif name in terms:
            contrib = coef[terms.index(name)] * v
        else:
            raise ValueError(f"{name!r} is not a numeric or spline term of the model")
        contributions[name] = (v, contrib)
    if not contributions:
        raise ValueError("give the values of at least one term")
    widest = max(float(np.ptp(c)) for _, c in contributions.values())
    if widest == 0:
        raise ValueError("no term varies over the given values")
    scale = maxscale / widest
    axes = {
        k: (v.tolist(), ((c - c.min()) * scale).tolist()) for k, (v, c) in contributions.items()
    }
    offset = sum(float(c.min()) for _, c in contributions.values()) - center
    return Nomogram(axes, scale, offset)
