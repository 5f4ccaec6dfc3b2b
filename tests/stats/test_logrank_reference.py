"""Log-rank and G-rho against R survival 3.5-3 ``survdiff`` fixtures (km_logrank.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.logrank import logrank_test

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(p.stem.removeprefix("logrank_") for p in (REF / "fixtures").glob("logrank_*.json"))


def _tests(name: str) -> list[dict[str, Any]]:
    return list(json.loads((REF / "fixtures" / f"logrank_{name}.json").read_text())["tests"])


@pytest.mark.parametrize("name", CASES)
def test_survdiff_matches_r(name: str) -> None:
    for case in _tests(name):
        cols = [c for c in (case["group"], case["strata"]) if c]
        data = pd.read_csv(REF / "data" / f"{name}.csv", dtype={c: str for c in cols})
        data = data.dropna(subset=cols)  # R's na.omit on the model frame
        res = logrank_test(
            data["time"],
            data["status"],
            data[case["group"]],
            strata=None if case["strata"] is None else data[case["strata"]],
            rho=case["rho"],
        )
        # R orders factor levels by locale collation, we by code point: align by name.
        order = [[str(g) for g in res.groups].index(g) for g in case["groups"]]
        assert sorted(case["groups"]) == [str(g) for g in res.groups]
        assert [res.n[i] for i in order] == case["n"]
        np.testing.assert_allclose(res.observed[order], case["observed"], rtol=1e-6)
        np.testing.assert_allclose(res.expected[order], case["expected"], rtol=1e-6)
        var = res.variance[np.ix_(order, order)]
        np.testing.assert_allclose(var, case["variance"], rtol=1e-6, atol=1e-12)
        assert res.df == case["df"]
        np.testing.assert_allclose(res.chi2, case["chi2"], rtol=1e-6)
        np.testing.assert_allclose(res.p, case["p"], rtol=1e-6)
