"""The worked example of Miller JJ (1978), The inverse of the Freeman-Tukey double arcsine
transformation, Am Stat 32(4):138: four studies, common-effect (weighted) pooling.

Expected values are the paper's, with its rounding (4 decimals, so ``PAPER_TOL = 5e-5``).
Where it differs: Miller's transformation is the sum of the two arcsines and its variance
``1 / (n + 1/2)``; metafor and rechallenge use half of it (variance ``1 / (4n + 2)``), so
the model-scale values are compared after multiplying by 2 (estimates) or 4 (variances).
The paper's unweighted mean (1.2262) is not offered by rechallenge and is not tested.
"""

from __future__ import annotations

import numpy as np

from rechallenge.stats.meta import escalc_proportions, meta_proportions

EVENTS = [3, 6, 10, 1]
N = [11, 17, 21, 6]
PAPER_TOL = 5e-5


def test_double_arcsine_values_page_138() -> None:
    yi, vi, adjusted = escalc_proportions(EVENTS, N, "PFT")
    np.testing.assert_allclose(2 * yi, [1.1391, 1.2888, 1.5253, 0.9515], atol=PAPER_TOL)
    np.testing.assert_allclose(4 * vi, [0.0870, 0.0571, 0.0465, 0.1538], atol=PAPER_TOL)
    assert not adjusted.any()  # the double arcsine needs no continuity correction


def test_weighted_mean_and_its_inverse_page_138() -> None:
    res = meta_proportions(EVENTS, N, measure="PFT", method="FE")
    np.testing.assert_allclose(2 * res.fit.estimate, 1.3093, atol=PAPER_TOL)
    # back-transformed at the harmonic mean of n (Miller's proposal, metafor transf.ipft.hm)
    np.testing.assert_allclose(res.pooled, 0.3595, atol=PAPER_TOL)
    assert res.n_harmonic is not None
    np.testing.assert_allclose(res.n_harmonic, 4 / sum(1 / n for n in N))
