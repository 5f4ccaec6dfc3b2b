"""Cox edge cases found on small cohorts cut at early data cut-offs."""

from __future__ import annotations

import warnings

import numpy as np

from rechallenge.stats.cox import CoxConvergenceWarning, fit_cox


def test_a_likelihood_of_exactly_zero_does_not_divide_by_zero() -> None:
    # The only event is alone in its risk set: the log partial likelihood is 0 for every
    # beta. R (survival 3.5) runs out of iterations with a warning; so must we, no crash.
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.array([0, 0, 0, 1])
    x = np.array([[1.0], [0.0], [1.0], [0.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_cox(time, event, x)
    assert fit.loglik == 0.0
    assert fit.loglik_null == 0.0
    assert not fit.converged
    assert any(issubclass(w.category, CoxConvergenceWarning) for w in caught)
