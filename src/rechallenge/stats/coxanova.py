"""Sequential likelihood-ratio tests of a Cox model's terms, as R ``anova(coxph(...))``.

Public API: :func:`cox_anova` → list of :class:`AnovaRow` (``NULL`` first).

Algorithm: terms are added in the model's order (a categorical column is one term with
all its contrast columns); each row refits the model with the terms so far (same data,
ties, strata, weights, ``(start, stop]``) and reports ``2 (l_k - l_{k-1})`` on the
number of columns the term adds, with its chi-square p-value (R's ``Chisq`` and
``Pr(>|Chi|)``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from rechallenge.stats.cox import CoxResult, MonotoneLikelihoodWarning, fit_cox

__all__ = ["AnovaRow", "cox_anova"]


@dataclass(frozen=True)
class AnovaRow:
    """One row of R's anova table: the model after adding ``term``."""

    term: str
    loglik: float
    chisq: float
    df: int
    p: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (NaN becomes ``None``)."""

        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "term": self.term,
            "loglik": num(self.loglik),
            "chisq": num(self.chisq),
            "df": self.df,
            "p": num(self.p),
        }


def cox_anova(fit: CoxResult) -> list[AnovaRow]:
    """Sequential LR tests of ``fit``'s terms, as R ``anova(fit)``."""
    data = fit.data
    rows = [AnovaRow("NULL", fit.loglik_null, math.nan, 0, math.nan)]
    previous = fit.loglik_null
    columns: list[int] = []
    terms = list(fit.assign.items())
    for k, (term, cols) in enumerate(terms):
        columns.extend(cols)
        if k == len(terms) - 1:
            loglik = fit.loglik
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MonotoneLikelihoodWarning)
                sub = fit_cox(
                    data.time,
                    data.event,
                    np.asarray(data.x[:, columns]),
                    strata=data.strata,
                    ties=fit.ties,  # type: ignore[arg-type]
                    start=data.start,
                    weights=data.weights,
                    concordance=False,
                )
            loglik = sub.loglik
        chisq = 2.0 * (loglik - previous)
        df = len(cols)
        rows.append(AnovaRow(term, loglik, chisq, df, float(stats.chi2.sf(chisq, df))))
        previous = loglik
    return rows
