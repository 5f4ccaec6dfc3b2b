"""Cox rows of the results: one row per term, reference rows, Firth rows, global LR p.

The global p of a factor is checked against R (tests/reference/factor_lr.R: `anova` of the
univariable fit, `drop1(fit, test = "Chisq")` of the multivariable one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rechallenge.analysis.regression import fit_model
from rechallenge.config import StudyConfig
from rechallenge.labels import Labels

REF = Path(__file__).resolve().parents[1] / "reference"
GLOBAL: dict[str, Any] = json.loads((REF / "fixtures" / "factor_lr.json").read_text("utf-8"))
DATA = {"celltype": "cox_veteran", "grade": "cox_categorical"}


def config(ties: str = "efron", firth: bool = True) -> StudyConfig:
    base = StudyConfig()
    statistics = base.statistics.model_copy(update={"cox_ties": ties, "firth_on_monotone": firth})
    return base.model_copy(update={"statistics": statistics})


def frame(name: str) -> pd.DataFrame:
    data = pd.read_csv(REF / "data" / f"{name}.csv")
    return data.assign(aval_days=data["time"], cnsr=1 - data["event"])


@pytest.mark.parametrize("case", sorted(GLOBAL))
@pytest.mark.parametrize("model", ["univariable", "multivariable"])
def test_global_p_of_a_factor_matches_r(case: str, model: str) -> None:
    ref = GLOBAL[case]
    factor = ref["factor"]
    names = [factor] if model == "univariable" else list(ref["multivariable"]["variables"])
    data = frame(DATA[factor])
    fitted = fit_model(data, names, {}, config(ref["ties"]), model, Labels())
    rows = [r for r in fitted.rows if r["variable"] == factor]
    assert [r["global_p"] for r in rows] == [pytest.approx(ref[model]["p"], rel=1e-6)] * len(rows)
    assert {r["global_test"] for r in rows} == {"LR"}
    # the reference row comes first, then one row per other level
    # (the LR test does not depend on the reference; ours is the first level in sort order)
    levels = sorted(data[factor].unique())
    assert rows[0]["is_reference"] and rows[0]["level"] == levels[0]
    assert [r["level"] for r in rows[1:]] == levels[1:]
    assert not any(r["is_reference"] for r in rows[1:])
    assert len(rows) == ref[model]["df"] + 1
    others = [r for r in fitted.rows if r["variable"] != factor]
    assert all(r["global_p"] is None for r in others)  # numeric or two-level: no global p


def small_monotone() -> pd.DataFrame:
    # group "c" has no events: its coefficient diverges under ordinary Cox
    return pd.DataFrame(
        {
            "aval_days": [5, 8, 12, 3, 6, 9, 14, 20, 7, 11, 15, 18],
            "cnsr": [0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1],
            "g": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
        }
    )


def test_monotone_model_lists_only_firth_rows() -> None:
    fitted = fit_model(small_monotone(), ["g"], {}, config(), "univariable", Labels())
    assert [r["term"] for r in fitted.rows] == ["g=a", "g=b", "g=c"]
    estimated = fitted.rows[1:]
    assert all(r["firth"] and r["test"] == "firth_lr" for r in estimated)
    assert all(r["ci_method"] == "profile" and r["ties"] == "breslow" for r in estimated)
    assert all(r["estimable"] and r["hr"] is not None for r in estimated)
    assert fitted.rows[0]["global_test"] == "firth_lr"
    assert fitted.summary is not None and fitted.summary["monotone"] and fitted.summary["firth"]


def test_without_firth_a_diverging_term_is_not_estimable() -> None:
    fitted = fit_model(small_monotone(), ["g"], {}, config(firth=False), "univariable", Labels())
    by_term = {r["term"]: r for r in fitted.rows}
    assert by_term["g=c"]["estimable"] is False and by_term["g=c"]["hr"] is None
    assert by_term["g=b"]["estimable"] is True and by_term["g=b"]["hr"] is not None
    assert {r["monotone"] for r in fitted.rows} == {True}
    assert by_term["g=a"]["is_reference"] and by_term["g=a"]["p"] is None


def test_events_per_parameter() -> None:
    fitted = fit_model(frame("cox_veteran"), ["celltype", "trt"], {}, config(), "multivariable",
                       Labels())  # fmt: skip
    assert fitted.summary is not None
    events = int((frame("cox_veteran")["event"] == 1).sum())
    assert fitted.summary["parameters"] == 4
    assert fitted.summary["events_per_parameter"] == pytest.approx(events / 4)
    assert fitted.summary["epv_low"] is (events / 4 < 10)


def test_firth_lr_test_agrees_with_the_fits_own_tests() -> None:
    # testing every coefficient is the model's global penalised LR test, testing one is
    # that coefficient's profile test: both already checked against R coxphf
    from rechallenge.stats.firth import fit_firth_cox
    from rechallenge.stats.firth_test import firth_lr_test

    data = pd.read_csv(REF / "data" / "cox_monotone.csv")
    X = data[["subgroup", "age"]]
    fit = fit_firth_cox(data["time"], data["event"], X)
    both = firth_lr_test(data["time"], data["event"], X, ["subgroup", "age"])
    assert (both.df, both.chi2) == (2, pytest.approx(fit.lr_chi2, rel=1e-5))
    for j, name in enumerate(["subgroup", "age"]):
        one = firth_lr_test(data["time"], data["event"], X, [name])
        assert one.chi2 == pytest.approx(fit.chi2[j], rel=1e-5, abs=1e-8)


def test_firth_multivariable_model_gets_a_penalised_global_p() -> None:
    data = small_monotone().assign(
        x=[0.1, 0.4, -0.2, 0.3, 0.0, 0.5, -0.1, 0.2, 0.6, -0.3, 0.1, 0.2]
    )
    fitted = fit_model(data, ["g", "x"], {}, config(), "multivariable", Labels())
    rows = [r for r in fitted.rows if r["variable"] == "g"]
    assert {r["global_test"] for r in rows} == {"firth_lr"}
    p = rows[0]["global_p"]
    assert p is not None and 0 < p < 1 and all(r["global_p"] == p for r in rows)
