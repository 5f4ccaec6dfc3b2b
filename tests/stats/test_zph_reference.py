"""cox_zph against R survival 3.5 cox.zph (fixtures written by tests/reference/cox.R)."""

from __future__ import annotations

import numpy as np
import pytest
from test_cox_reference import CASES, fit_case

from rechallenge.stats.zph import cox_zph

TRANSFORMS = ["km", "identity", "rank", "log"]


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", [c for c in CASES if c != "monotone"])
def test_matches_r_cox_zph(name: str, ties: str, transform: str) -> None:
    r, fit = fit_case(name, ties)
    expected = r["zph"][transform]
    result = cox_zph(fit, transform=transform)  # type: ignore[arg-type]
    table = result.to_frame()
    assert table["term"].tolist() == expected["terms"]
    np.testing.assert_allclose(table["chisq"], expected["chisq"], rtol=1e-6)
    np.testing.assert_allclose(table["df"], expected["df"])
    np.testing.assert_allclose(table["p"], expected["p"], rtol=1e-6)


def test_reference_data_values_from_the_shared_notes() -> None:
    _, fit = fit_case("reference", "efron")
    # endpoints-and-statistics.md section 9
    assert cox_zph(fit).global_chisq == pytest.approx(0.265825, abs=5e-7)
    assert cox_zph(fit, "rank").global_chisq == pytest.approx(0.228920, abs=5e-7)
    assert cox_zph(fit, "identity").global_chisq == pytest.approx(0.155793, abs=5e-7)


def test_to_dict_has_terms_and_global() -> None:
    _, fit = fit_case("veteran", "efron")
    out = cox_zph(fit).to_dict()
    assert [t["term"] for t in out["terms"]] == ["trt", "celltype", "karno", "age"]
    assert out["terms"][1]["df"] == 3
    assert out["global"]["df"] == 6
    assert out["transform"] == "km"


def test_rejects_unknown_transform() -> None:
    _, fit = fit_case("aml", "efron")
    with pytest.raises(ValueError, match="transform"):
        cox_zph(fit, transform="sqrt")  # type: ignore[arg-type]
