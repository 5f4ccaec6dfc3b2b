"""Sequential LR tests against R survival 3.5 anova(coxph(...)) (tests/reference/cox_anova.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.coxanova import cox_anova

REF = Path(__file__).resolve().parents[1] / "reference"
R = json.loads((REF / "fixtures" / "coxx_anova.json").read_text())


def _check(rows: list, r: dict) -> None:
    assert [row.term for row in rows] == r["term"]
    np.testing.assert_allclose([row.loglik for row in rows], r["loglik"], rtol=1e-10)
    chisq = [np.nan if v is None else v for v in r["chisq"]]
    np.testing.assert_allclose([row.chisq for row in rows], chisq, rtol=1e-8)
    p = [np.nan if v is None else v for v in r["p"]]
    np.testing.assert_allclose([row.p for row in rows], p, rtol=1e-7)
    assert [row.df for row in rows] == [0 if v is None else v for v in r["df"]]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_veteran_with_a_factor_matches_r_anova(ties: str) -> None:
    v = pd.read_csv(REF / "data" / "cox_veteran.csv")
    fit = fit_cox(v["time"], v["event"], v[["trt", "celltype", "karno"]], ties=ties)  # type: ignore[arg-type]
    _check(cox_anova(fit), R[f"veteran_{ties}"])


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_lung_with_strata_matches_r_anova(ties: str) -> None:
    d = pd.DataFrame(R["lung_data"])
    fit = fit_cox(d["time"], d["event"], d[["age", "sex", "ecog"]], strata=d["inst2"], ties=ties)  # type: ignore[arg-type]
    rows = cox_anova(fit)
    _check(rows, R[f"lung_{ties}"])
    assert rows[-1].to_dict()["term"] == "ecog"
