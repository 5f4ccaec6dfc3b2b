"""Penalised likelihood-ratio test of several Firth-Cox coefficients at once (``coxphftest``).

:func:`firth_lr_test` tests whether a group of coefficients (e.g. every level of one
factor) are all 0 in a Firth-penalised Cox model, as R ``coxphf::coxphftest`` does:

1. Build the design and the risk sets as :func:`~rechallenge.stats.firth.fit_firth_cox`.
2. Maximise the penalised log-likelihood ``l*`` over all coefficients (the full fit).
3. Maximise it again with the tested coefficients held at 0 and the others free, keeping
   the penalty ``1/2 log|I|`` of the *full* design (not a refit without the columns).
4. The statistic ``2 (l*_full - l*_restricted)`` is referred to chi-square with as many
   degrees of freedom as tested coefficients.

Testing every coefficient gives the model's global penalised LR test; testing one gives
that coefficient's penalised LR test (both as ``fit_firth_cox`` reports them).

Reference: Heinze G, Ploner M, coxphf (R package) ``R/coxphftest.R``; Heinze & Schemper
(2001) Biometrics 57:114–119.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from rechallenge.stats.cox import build_design
from rechallenge.stats.firth import _maximise, _problem, _Settings
from rechallenge.stats.survdata import as_survdata

__all__ = ["FirthLRTest", "firth_lr_test"]


@dataclass(frozen=True)
class FirthLRTest:
    """Result of :func:`firth_lr_test`: statistic, degrees of freedom, p-value, terms tested."""

    chi2: float
    df: int
    p: float
    terms: tuple[str, ...]


def firth_lr_test(
    time: ArrayLike,
    event: ArrayLike,
    X: pd.DataFrame,
    variables: Sequence[str],
    *,
    strata: ArrayLike | None = None,
    reference: Mapping[str, Any] | None = None,
    maxit: int = 200,
    maxstep: float = 0.5,
    epsilon: float = 1e-9,
    gconv: float = 1e-7,
) -> FirthLRTest:
    """Penalised LR test that every coefficient of `variables` (columns of X) is 0.

    Args:
        time, event, X, strata, reference: as :func:`~rechallenge.stats.firth.fit_firth_cox`.
        variables: columns of ``X`` whose coefficients are tested together (a factor
            contributes all its non-reference levels).
        maxit, maxstep, epsilon, gconv: Newton–Raphson controls (tighter than the fit's,
            as for the profile limits, so that the statistic is not limited by them).

    Raises:
        ValueError: no events, or a name that is not a column of ``X``.
    """
    surv = as_survdata(time, event, strata=strata)
    if surv.n_events == 0:
        raise ValueError("no events: the Cox model cannot be fitted")
    unknown = [v for v in variables if v not in X.columns]
    if unknown:
        raise ValueError(f"not columns of X: {unknown}")
    design = build_design(X, reference, surv.n)
    codes = None if surv.strata is None else pd.factorize(surv.strata, sort=True)[0]
    prob = _problem(surv.time, surv.event, design.x, codes)
    cfg = _Settings(maxit=maxit, maxstep=maxstep, epsilon=epsilon, gconv=gconv)
    p = design.x.shape[1]
    tested = sorted(j for v in variables for j in design.assign[v])
    _, full, _, _ = _maximise(prob, np.zeros(p), np.ones(p, dtype=bool), cfg)
    free = np.ones(p, dtype=bool)
    free[tested] = False
    _, restricted, _, _ = _maximise(prob, np.zeros(p), free, cfg)
    chi2 = max(0.0, 2.0 * (full.loglik - restricted.loglik))
    return FirthLRTest(
        chi2=chi2,
        df=len(tested),
        p=float(stats.chi2.sf(chi2, len(tested))),
        terms=tuple(design.names[j] for j in tested),
    )
