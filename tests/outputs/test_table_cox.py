"""The Cox table: gtsummary layout, both row formats, Firth and not-estimable rows, EPV note."""

from __future__ import annotations

from typing import Any

import pytest

from rechallenge.tables.model import Table
from rechallenge.tables.study import build_tables, cox_table, cox_table_terms


def _base(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "model": "univariable",
        "n": 13,
        "events": 11,
        "ties": "efron",
        "firth": False,
        "monotone": False,
        "ci_method": "wald",
        "test": "Wald",
        "is_reference": False,
        "estimable": True,
        "global_p": None,
        "global_test": None,
        "events_per_parameter": 11.0,
        "epv_low": False,
        "coef": 0.1,
        "se": 0.2,
        "z": 0.5,
    }
    row.update(kw)
    return row


def _ref(variable: str, level: str, model: str = "univariable") -> dict[str, Any]:
    return _base(
        term=f"{variable}={level}",
        variable=variable,
        level=level,
        reference=level,
        model=model,
        is_reference=True,
        hr=None,
        lower=None,
        upper=None,
        p=None,
        coef=None,
        se=None,
        z=None,
    )


def contract_rows() -> list[dict[str, Any]]:
    """Schema 1.1 rows: one per term, reference rows first, as the contract describes."""
    hist = {"variable": "histology", "reference": "adenocarcinoma"}
    return [
        _ref("ecog_group", "0-1"),
        _base(
            term="ecog_group=2",
            variable="ecog_group",
            level="2",
            reference="0-1",
            hr=6.839,
            lower=1.557,
            upper=30.03,
            p=0.0109,
        ),
        _base(
            term="age",
            variable="age",
            level="per unit",
            reference="",
            level_label="per year",
            hr=0.938,
            lower=0.805,
            upper=1.093,
            p=0.413,
        ),
        _ref("histology", "adenocarcinoma"),
        _base(
            term="histology=squamous",
            level="squamous",
            **hist,
            hr=3.303,
            lower=0.914,
            upper=14.10,
            p=0.068,
            firth=True,
            monotone=True,
            ci_method="profile",
            test="firth_lr",
            global_p=0.0004,
            global_test="LR",
            events_per_parameter=5.5,
            epv_low=True,
        ),
        _base(
            term="histology=adenosquamous",
            level="adenosquamous",
            **hist,
            hr=None,
            lower=None,
            upper=None,
            p=None,
            estimable=False,
            monotone=True,
            global_p=0.0004,
            global_test="LR",
            events_per_parameter=5.5,
            epv_low=True,
        ),
    ]


CONTRACT_MODELS = [
    {"model": "univariable", "variables": ["ecog_group"], "n": 13, "events": 11,
     "parameters": 1, "events_per_parameter": 11.0, "epv_low": False},
    {"model": "univariable", "variables": ["histology"], "n": 13, "events": 11,
     "parameters": 2, "events_per_parameter": 5.5, "epv_low": True},
]  # fmt: skip


def _texts(t: Table) -> list[tuple[str, ...]]:
    return [r.texts for r in t.rows]


def _row(t: Table, label: str) -> tuple[str, ...]:
    return next(r.texts for r in t.rows if r.texts[0] == label)


def test_contract_rows_gtsummary_layout() -> None:
    t = cox_table(contract_rows(), "PFSR", cox_models=CONTRACT_MODELS)
    # no multivariable model: no multivariable columns, no spanner
    assert t.columns == ("Characteristic", "N", "Events", "HR", "95% CI", "p")
    assert t.spanners == ()
    assert t.title.startswith("Univariable Cox")
    assert _texts(t) == [
        ("ECOG performance status", "13", "11", "", "", ""),
        ("0–1", "", "", "—", "—", ""),
        ("2", "", "", "6.84", "1.56–30.03", "0.011"),
        ("Age, years (per year)", "13", "11", "0.94", "0.81–1.09", "0.413"),
        ("Histology", "13", "11", "", "", "<0.001"),  # the global LR p on the variable's row
        ("Adenocarcinoma", "", "", "—", "—", ""),
        ("Squamous cell carcinoma", "", "", "3.30†", "0.91–14.10", "0.068"),
        ("Adenosquamous carcinoma", "", "", "Not estimable", "—", "—"),
    ]
    assert [r.indent for r in t.rows] == [0, 1, 1, 0, 0, 1, 1, 1]
    notes = " ".join(t.footnotes)
    assert "penalised likelihood-ratio test" in notes and "profile penalised likelihood" in notes
    assert "global likelihood-ratio test" in notes
    assert "Not estimable" in notes
    assert "Fewer than 10 events per model parameter" in notes and "Histology, 5.5" in notes
    assert "Wald" in notes  # the ordinary rows' test is named
    assert "Efron" in notes


def test_numbers_are_numeric_cells() -> None:
    t = cox_table(contract_rows(), "PFSR")
    ecog2 = next(r for r in t.rows if r.texts[0] == "2")
    assert ecog2.cells[3].value == 6.839 and ecog2.cells[3].number_format == "0.00"
    assert ecog2.cells[5].value == 0.0109 and "0.000" in str(ecog2.cells[5].number_format)
    squamous = next(r for r in t.rows if r.texts[0] == "Squamous cell carcinoma")
    assert squamous.cells[3].number_format == '0.00"†"'  # the mark survives in a spreadsheet


def test_epv_note_from_rows_without_cox_models() -> None:
    t = cox_table(contract_rows(), "PFSR")
    assert any("Histology, 5.5" in n for n in t.footnotes)
    rows = [r for r in contract_rows() if r["variable"] != "histology"]
    assert not any("events per model parameter" in n for n in cox_table(rows).footnotes)


def test_old_format_reference_rows_built_and_firth_preferred(results: dict[str, Any]) -> None:
    t = build_tables(results)["table_cox_pfsr"]
    assert t.columns == (
        "Characteristic", "N", "Events", "HR", "95% CI", "p", "HR", "95% CI", "p",
    )  # fmt: skip
    assert [s.label for s in t.spanners] == ["Univariable", "Multivariable"]
    assert _row(t, "2") == (
        "2",
        "",
        "",
        "6.84",
        "1.56–30.03",
        "0.011",
        "6.10",
        "1.30–28.62",
        "0.022",
    )
    assert _row(t, "0–1")[3:] == ("—", "—", "", "—", "—", "")
    assert _row(t, "Male")[6:] == ("", "", "")  # not in the multivariable model
    assert _row(t, "IV")[3] == "5.92†"
    assert _row(t, "Age, years (per 10 years)")[1:4] == ("13", "12", "1.49")
    assert any("Multivariable model (N = 13, 12 events)" in n for n in t.footnotes)


def test_old_format_drops_the_ordinary_row_of_a_firth_term(results: dict[str, Any]) -> None:
    rows = results["cox"]["PFSR"]
    stage = next(r for r in rows if r["term"] == "stage=IV")
    ordinary = {**stage, "firth": False, "hr": 1e-9, "lower": 0.0, "upper": None}
    rows.insert(rows.index(stage), ordinary)
    t = cox_table(rows, "PFSR")
    stage_rows = [r.texts for r in t.rows if r.texts[0] in ("Stage", "III", "IV")]
    assert stage_rows == [
        ("Stage", "13", "12", "", "", "", "", "", ""),
        ("III", "", "", "—", "—", "", "", "", ""),
        ("IV", "", "", "5.92†", "0.61–802.40", "0.131", "", "", ""),
    ]
    # an old Firth row labelled "Wald" is still described as a penalised LR test
    assert any("penalised likelihood-ratio" in n for n in t.footnotes)


def test_table_terms_in_display_order(results: dict[str, Any]) -> None:
    assert cox_table_terms(results, "PFSR", "univariable") == [
        "ecog_group=0-1",
        "ecog_group=2",
        "pdl1=positive",
        "pdl1=negative",
        "sex=female",
        "sex=male",
        "smoking=never",
        "smoking=ever",
        "stage=III",
        "stage=IV",
        "histology=adenocarcinoma",
        "histology=adenosquamous",
        "histology=squamous",
        "age_per_10",
    ]
    assert cox_table_terms(results, "PFSR", "multivariable", reference=False) == [
        "ecog_group=2",
        "pdl1=negative",
    ]
    results["cox"]["PFSR"] = contract_rows()
    assert cox_table_terms(results, "PFSR", "univariable", reference=False) == [
        "ecog_group=2",
        "age",
        "histology=squamous",
        "histology=adenosquamous",
    ]
    assert cox_table_terms(results, "OS", "univariable") == []


def test_terms_match_the_table_rows(results: dict[str, Any]) -> None:
    results["cox"]["PFSR"] = contract_rows()
    t = build_tables(results)["table_cox_pfsr"]
    level_rows = [r for r in t.rows if r.indent == 1 or r.cells[3].text]
    assert len(level_rows) == len(cox_table_terms(results, "PFSR", "univariable"))


def test_data_sheet_holds_unrounded_estimates() -> None:
    t = cox_table(contract_rows(), "PFSR")
    assert t.data is not None
    cols = t.data.columns
    by_level = {r[cols.index("Level")]: r for r in t.data.rows}
    ecog2 = by_level["2"]
    assert ecog2[cols.index("HR")] == 6.839 and ecog2[cols.index("p")] == 0.0109
    assert by_level["Adenosquamous carcinoma"][cols.index("Estimable")] is False
    assert by_level["0–1"][cols.index("Reference level")] is True


def test_no_rows_is_an_error() -> None:
    with pytest.raises(ValueError, match="no Cox rows"):
        cox_table([], "PFSR")


def test_contract_multivariable_columns_and_epv_note() -> None:
    uni = [r for r in contract_rows() if r["variable"] != "histology"]
    multi = [
        {**r, "model": "multivariable", "hr": r["hr"] and r["hr"] * 0.9, "p": r["p"]} for r in uni
    ]
    models = [
        {"model": "multivariable", "variables": ["ecog_group", "age"], "n": 12, "events": 10,
         "parameters": 2, "events_per_parameter": 5.0, "epv_low": True},
    ]  # fmt: skip
    t = cox_table(uni + multi, "OS", cox_models=models)
    assert [s.label for s in t.spanners] == ["Univariable", "Multivariable"]
    assert t.title.startswith("Cox proportional-hazards regression: Overall survival")
    assert _row(t, "0–1")[3:] == ("—", "—", "", "—", "—", "")
    assert _row(t, "2")[6:] == ("6.16", "1.56–30.03", "0.011")
    notes = " ".join(t.footnotes)
    assert "Multivariable model (N = 12, 10 events): ECOG performance status, Age, years." in notes
    assert "multivariable model, 5.0" in notes
