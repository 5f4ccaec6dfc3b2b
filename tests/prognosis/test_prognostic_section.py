"""The study's prognostic-model section on small hand-built cohorts.

Off below ``min_n`` with the reason said; the events-per-variable warning kept in the
results and the report text; complete-case exclusions counted per covariate; the fit and
the validation equal the statistics functions on the same rows; the bootstrap seeded;
configuration errors name the field.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from rechallenge.analysis.prognostic import prognostic_results, prognostic_section
from rechallenge.config import ConfigError, StudyConfig, config_from_mapping
from rechallenge.pipeline import _redacted_config
from rechallenge.report.prognostic import prognostic_paragraphs
from rechallenge.stats.cox import fit_cox
from rechallenge.stats.validation import concordance
from rechallenge.tables.prognostic import prognostic_tables

START = pd.Timestamp("2023-03-31")


def _cohort(
    n: int, *, seed: int = 5, event_share: float = 0.8
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`included`, `survival` and `labs` of ``n`` patients; PFSR shorter with high NLR."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:03d}" for i in range(n)]
    lymph = rng.lognormal(np.log(1.3), 0.3, n).round(2)
    nlr = np.exp(np.log(3.0) + rng.normal(0, 0.5, n))
    neut = (nlr * lymph).round(2)
    included = pd.DataFrame(
        {
            "patient_id": ids,
            "rechallenge_start_date": [START] * n,
            "ecog_rechallenge": rng.choice([0, 1, 2], n).astype(float),
            "height_cm": rng.normal(168, 8, n).round(0),
            "weight_kg": rng.normal(62, 9, n).round(1),
            "pdl1_retest_tps": rng.integers(0, 100, n).astype(float),
            "pdl1_retest_date": [START - pd.Timedelta(days=20)] * n,
            "sex": rng.choice(["male", "female"], n),
        }
    )
    days = rng.exponential(150 / (neut / lymph / 3.0), n).round() + 1
    event = rng.random(n) < event_share
    survival = pd.DataFrame(
        {"patient_id": ids, "paramcd": "PFSR", "aval_days": days, "cnsr": (~event).astype(int)}
    )
    labs = pd.DataFrame(
        {
            "patient_id": ids * 2,
            "date": [START - pd.Timedelta(days=3)] * (2 * n),
            "test": ["neutrophils"] * n + ["lymphocytes"] * n,
            "value": np.concatenate([neut, lymph]),
            "unit": "10^9/L",
        }
    )
    return included, survival, labs


def _config(**prognostic: object) -> StudyConfig:
    section = {"validation": {"bootstrap": 20, "times_months": [3.0]}} | prognostic
    return config_from_mapping({"prognostic": section})


def test_unset_section_adds_nothing_to_results_or_the_recorded_configuration() -> None:
    included, survival, labs = _cohort(60)
    assert prognostic_results(included, survival, labs, StudyConfig()) == {}
    assert "prognostic" not in _redacted_config(StudyConfig())
    assert "prognostic" in _redacted_config(_config())
    switched_off = config_from_mapping({"prognostic": {"enabled": False}})
    assert prognostic_results(included, survival, labs, switched_off) == {}


def test_off_below_min_n_with_the_reason_in_results_and_report() -> None:
    included, survival, labs = _cohort(49)
    section = prognostic_section(included, survival, labs, _config())
    assert section is not None
    assert section["status"] == "off"
    assert "49 patients were analysed, fewer than the 50" in section["reason"]
    assert "model" not in section
    assert prognostic_tables(section, _labels()) == []
    (text,) = prognostic_paragraphs(section)
    assert text.startswith("The prognostic model was not fitted: 49 patients were analysed")
    at_fifty = prognostic_section(*_cohort(50), _config())
    assert at_fifty is not None and at_fifty["status"] == "fitted"


def _labels():  # type: ignore[no-untyped-def]
    from rechallenge.labels import Labels

    return Labels()


def test_low_events_per_variable_warns_in_results_table_and_report() -> None:
    included, survival, labs = _cohort(60, event_share=0.2)
    config = _config(splines={"nlr": 3})
    section = prognostic_section(included, survival, labs, config)
    assert section is not None and section["status"] == "fitted"
    model = section["model"]
    events = section["frame"]["events"]
    assert model["df"] == 5  # nlr (2: spline, 3 knots), bmi, ecog, pdl1_retest
    assert model["events_per_variable"] == pytest.approx(events / 5)
    assert model["epv_low"] is True
    (warning,) = section["warnings"]
    assert f"{events} events for 5 model degrees of freedom" in warning
    assert "penalised Cox" in warning
    text = " ".join(prognostic_paragraphs(section))
    assert "Warning: " + warning.rstrip(".") in text
    table = prognostic_tables(section, _labels())[0]
    assert any("Fewer than 10 events per degree of freedom" in n for n in table.footnotes)


def test_enough_events_give_no_warning() -> None:
    section = prognostic_section(*_cohort(200), _config())
    assert section is not None
    assert section["warnings"] == []
    assert section["model"]["epv_low"] is False


def test_complete_case_exclusions_are_counted_per_covariate_and_reason() -> None:
    included, survival, labs = _cohort(80)
    included.loc[:6, "height_cm"] = np.nan  # 7 without height
    labs = labs[~((labs["patient_id"] == "P010") & (labs["test"] == "neutrophils"))]
    section = prognostic_section(included, survival, labs, _config())
    assert section is not None
    frame = section["frame"]
    assert frame["missing_by_covariate"] == {"nlr": 1, "bmi": 7, "ecog": 0, "pdl1_retest": 0}
    assert frame["excluded"] == 8
    assert frame["n"] == 72
    assert section["markers"]["bmi"]["missing_reasons"] == {"no height": 7}
    assert section["markers"]["nlr"]["missing_reasons"] == {
        "no neutrophil count in the 30 days before the first dose": 1
    }
    text = prognostic_paragraphs(section)[0]
    assert "72 had every covariate recorded" in text and "8 were left out" in text
    assert "Body-mass index, 7" in text  # words from the label catalogue, not codes


def test_fit_and_validation_equal_the_statistics_on_the_same_rows() -> None:
    included, survival, labs = _cohort(120)
    config = _config(covariates=["nlr", "ecog", "sex"])
    section = prognostic_section(included, survival, labs, config)
    assert section is not None
    nlr = labs[labs["test"] == "neutrophils"]["value"].to_numpy() / (
        labs[labs["test"] == "lymphocytes"]["value"].to_numpy()
    )
    x = pd.DataFrame(
        {
            "nlr": nlr,
            "ecog": included["ecog_rechallenge"],
            "sex=male": (included["sex"] == "male").astype(float),
        }
    )
    time = survival["aval_days"].to_numpy(float)
    event = 1 - survival["cnsr"].to_numpy()
    fit = fit_cox(time, event, x)
    terms = section["model"]["terms"]
    assert [t["term"] for t in terms] == ["nlr", "ecog", "sex=male"]
    assert [t["coef"] for t in terms] == pytest.approx(list(fit.coef), rel=1e-9)
    assert terms[2]["reference"] == "female" and terms[2]["level"] == "male"
    lp = x.to_numpy() @ fit.coef
    c = concordance(time, event, lp).c
    assert section["validation"]["harrell_c"] == pytest.approx(c, rel=1e-9)
    assert 0.5 < c < 1
    calibration = section["validation"]["times"][0]["calibration"]
    assert sum(g["n"] for g in calibration) == 120
    predicted = [g["predicted"] for g in calibration]
    assert predicted == sorted(predicted) and 0 < predicted[0] < predicted[-1] < 1


def test_bootstrap_is_seeded_and_reproducible() -> None:
    data = _cohort(100)
    first = prognostic_section(*data, _config())
    again = prognostic_section(*data, _config())
    other = prognostic_section(*data, _config(validation={"bootstrap": 20, "seed": 2}))
    assert first is not None and again is not None and other is not None
    boot = first["validation"]["bootstrap"]
    assert boot == again["validation"]["bootstrap"]
    assert boot["b"] == 20 and boot["seed"] == 1
    assert boot["corrected"] != other["validation"]["bootstrap"]["corrected"]
    assert boot["corrected"]["C"] == pytest.approx(boot["apparent"]["C"] - boot["optimism"]["C"])


def test_nomogram_points_span_zero_to_a_hundred_on_the_widest_term() -> None:
    section = prognostic_section(*_cohort(150), _config(splines={"nlr": 3}))
    assert section is not None
    nomo = section["nomogram"]
    widest = max(max(a["points"]) - min(a["points"]) for a in nomo["axes"])
    assert widest == pytest.approx(100.0)
    assert all(min(a["points"]) == pytest.approx(0.0) for a in nomo["axes"])
    levels = [s["survival"] for s in nomo["survival"]]
    points = [s["points"] for s in nomo["survival"]]
    assert levels == sorted(levels, reverse=True) and points == sorted(points)
    ecog = next(a for a in nomo["axes"] if a["variable"] == "ecog")
    assert ecog["values"] == [0.0, 1.0, 2.0]  # a score: whole values only


def test_penalised_cox_only_when_asked() -> None:
    data = _cohort(120)
    plain = prognostic_section(*data, _config())
    lasso = prognostic_section(*data, _config(penalty={"method": "lasso", "nlambda": 8}))
    assert plain is not None and "penalised" not in plain
    assert lasso is not None
    block = lasso["penalised"]
    assert block["alpha"] == 1.0 and block["nlambda"] == 8
    assert block["lambda_min"] <= block["lambda_1se"]
    assert set(block["coef_min"]) == {"nlr", "bmi", "ecog", "pdl1_retest"}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"covariates": ["nlrr"]},
            "prognostic.covariates: unknown covariate 'nlrr' (did you mean 'nlr'?)",
        ),
        ({"covariates": ["nlr", "nlr"]}, "prognostic.covariates: covariates repeated: nlr"),
        ({"splines": {"age": 3}}, "spline 'age' is not one of the covariates"),
        ({"covariates": ["ecog"], "splines": {"ecog": 3}}, "spline 'ecog': only continuous"),
        ({"splines": {"nlr": 9}}, "spline 'nlr': knots must be 3 to 7"),
        ({"endpoint": "PFS1"}, "prognostic.endpoint"),
        ({"min_n": 1}, "prognostic.min_n"),
        ({"validation": {"times_months": [0]}}, "prognostic.validation.times_months"),
        ({"penalty": {"method": "lasso", "nfolds": 2}}, "prognostic.penalty.nfolds"),
        ({"bootstrap": 10}, "unknown key 'prognostic.bootstrap'"),
    ],
)
def test_configuration_errors_name_the_field(section: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"prognostic": section})
    assert expected in str(caught.value)


def test_the_documented_configuration_is_valid() -> None:
    import re
    from pathlib import Path

    import yaml

    doc = Path(__file__).resolve().parents[2] / "docs" / "prognostic-models.md"
    (block,) = re.findall(r"^```yaml\n(.*?)^```", doc.read_text("utf-8"), re.M | re.S)
    config = config_from_mapping(yaml.safe_load(block))
    assert config.prognostic is not None
    assert config.prognostic.splines == {"nlr": 3}
    assert config.prognostic.validation.times_months == [3.0, 6.0]


def test_monotone_likelihood_switches_to_firth_and_skips_validation() -> None:
    from rechallenge.figures.render import build_figures, skipped_figures

    included, survival, labs = _cohort(80)
    survival.loc[(included["sex"] == "female").to_numpy(), "cnsr"] = 1  # no event in women
    section = prognostic_section(included, survival, labs, _config(covariates=["nlr", "sex"]))
    assert section is not None and section["status"] == "fitted"
    assert section["model"]["method"] == "firth" and section["model"]["ties"] == "breslow"
    sex = section["model"]["terms"][1]
    assert sex["term"] == "sex=male" and 1 < sex["lower"] < sex["hr"] < sex["upper"]
    assert section["validation"] is None and section["nomogram"] is None
    assert section["warnings"] == []  # no raw design-column names reach the report
    text = " ".join(prognostic_paragraphs(section))
    assert "Firth's penalised estimates" in text and "cannot be validated" in text
    (table,) = prognostic_tables(section, _labels())
    assert "Firth's penalised Cox model" in table.footnotes[0]
    results = {"prognostic": section}
    skipped = skipped_figures(build_figures(results), results)
    assert not any("prognostic" in stem for stem in skipped)


def test_tables_group_terms_under_their_variable() -> None:
    from rechallenge.labels import default_catalogue

    section = prognostic_section(
        *_cohort(150), _config(splines={"nlr": 3}, covariates=["nlr", "sex"])
    )
    assert section is not None
    model, validation = prognostic_tables(section, _labels())
    texts = [r.texts for r in model.rows]
    kinds = [r.kind for r in model.rows]
    assert kinds == ["group", "data", "data", "group", "data"]
    assert texts[0][0] == default_catalogue()["variable"]["nlr"]
    assert [t[0] for t in texts[1:3]] == ["Linear term", "Non-linear term 1"]
    assert texts[4][0] == "Male vs Female"
    assert any(
        "restricted cubic spline; Wald test of the whole variable" in n for n in model.footnotes
    )
    assert model.data is not None and [r[1] for r in model.data.rows] == ["nlr", "nlr'", "sex=male"]
    rows = [r.texts[0] for r in validation.rows]
    assert rows == ["Harrell's C", "Somers' Dxy", "Calibration slope", "Uno's C", "AUC at 3 months"]
    boot = section["validation"]["bootstrap"]
    assert validation.rows[0].texts[3] == f"{boot['corrected']['C']:.3f}"


def _concordance_one_case_at_a_time(time, event, risk, w):  # type: ignore[no-untyped-def]
    """The concordance counts case by case (the form the blocked comparison replaces)."""
    conc = disc = tied = 0.0
    for k, i in enumerate(np.nonzero(event == 1)[0]):
        later = (time > time[i]) | ((time == time[i]) & (event == 0))
        ri = risk[later]
        conc += w[k] * float(np.sum(risk[i] > ri))
        disc += w[k] * float(np.sum(risk[i] < ri))
        tied += w[k] * float(np.sum(risk[i] == ri))
    return conc, disc, tied


@pytest.mark.parametrize("block", [1 << 22, 50, 1])
def test_blocked_concordance_counts_equal_the_case_by_case_counts(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rechallenge.stats import validation

    monkeypatch.setattr(validation, "PAIR_BLOCK_CELLS", block)
    rng = np.random.default_rng(3)
    time = rng.integers(1, 40, 300).astype(float)  # many tied times
    event = (rng.random(300) < 0.7).astype(float)
    risk = rng.integers(0, 6, 300).astype(float)  # many tied risks
    cases = np.nonzero(event == 1)[0]
    uno_w = 1.0 / validation.censoring_survival(time, event, time[cases]) ** 2
    for weights, w in (("harrell", np.ones(cases.size)), ("uno", uno_w)):
        got = concordance(time, event, risk, weights=weights)
        assert (got.concordant, got.discordant, got.tied_risk) == _concordance_one_case_at_a_time(
            time, event, risk, w
        )


def test_nomogram_draws_a_three_level_factor_as_one_axis() -> None:
    """Histology of three levels: one axis, reference first, its points 0 and the two HRs'."""
    included, survival, labs = _cohort(150)
    rng = np.random.default_rng(11)
    included["histology"] = rng.choice(["adenocarcinoma", "squamous", "nos"], len(included))
    config = _config(covariates=["nlr", "ecog", "histology"])
    section = prognostic_section(included, survival, labs, config)
    assert section is not None
    histology = [a for a in section["nomogram"]["axes"] if a["variable"] == "histology"]
    assert len(histology) == 1
    axis = histology[0]
    assert axis["kind"] == "factor" and axis["values"] == [0.0, 1.0, 2.0]
    assert axis["ticks"][0] == "adenocarcinoma" and sorted(axis["ticks"]) == sorted(
        ["adenocarcinoma", "squamous", "nos"]
    )
    assert min(axis["points"]) == pytest.approx(0.0)
    per_unit = section["nomogram"]["points_per_unit"]
    fitted = {t["term"]: t["coef"] for t in section["model"]["terms"]}
    coef = [0.0] + [fitted[f"histology={lv}"] for lv in axis["ticks"][1:]]
    assert min(coef) < 0 < max(coef)  # signs differ: one axis spans both, from the lowest
    expected = [(c - min(coef)) * per_unit for c in coef]
    np.testing.assert_allclose(axis["points"], expected, rtol=1e-12, atol=1e-12)


def test_nomogram_labels_never_overlap_and_stay_right_of_the_row_names() -> None:
    """Crowded levels: every label clear of its neighbours on its side and of the names."""
    from rechallenge.figures.nomogram import LABEL_GAP, X_LIMITS, _label_places

    xs = [0.0, 9.0, 14.9, 15.5, 60.0]
    widths = [30.0, 17.0, 26.0, 8.0, 10.0]
    places = _label_places(xs, widths, [False] * len(xs))
    spans: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for x, width, (anchor, below, ha) in zip(xs, widths, places, strict=True):
        left = {"center": anchor - width / 2, "left": anchor, "right": anchor - width}[ha]
        assert left >= X_LIMITS[0]
        spans[below].append((left, left + width))
        if ha != "left" or anchor <= x:  # not moved: the label touches its tick
            assert left <= x <= left + width
    for side in spans.values():
        side.sort()
        for (_, right), (left, _) in itertools.pairwise(side):
            assert left >= right + LABEL_GAP - 1e-12
    assert places[-1] == (60.0, False, "center")  # room enough: centred above, as drawn alone
