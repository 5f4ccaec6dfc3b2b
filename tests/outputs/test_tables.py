"""Table model, percentage formatting and the study table builders."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rechallenge.tables.model import Cell, Spanner, Table, data_row, n_pct, percent, round_half_up
from rechallenge.tables.study import (
    adverse_event_table,
    baseline_table,
    build_tables,
    efficacy_table,
    resistance_table,
)

# --- formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [
        (1, 13, "7.7"),  # the paper prints 7.8
        (4, 13, "30.8"),  # the paper prints 30.7
        (6, 13, "46.2"),  # the paper prints 46.1
        (5, 13, "38.5"),
        (8, 13, "61.5"),
        (13, 13, "100.0"),
        (0, 13, "0.0"),
        (1, 16, "6.3"),  # 6.25: half rounds up
        (1, 80, "1.3"),  # 1.25: half rounds up (binary floats would give 1.2)
        (1, 3, "33.3"),
        (2, 3, "66.7"),
    ],
)
def test_percent_rounds_half_up(n: int, d: int, expected: str) -> None:
    assert percent(n, d) == expected


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_percent_equals_exact_decimal(n: int, d: int) -> None:
    exact = (Decimal(100 * n) / Decimal(d)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    # Decimal division keeps 28 digits, enough to decide the half for these sizes
    assert percent(n, d) == f"{exact:.1f}"


def test_percent_of_an_empty_denominator_is_a_dash() -> None:
    # an analysis with no patients (e.g. nobody included) still renders its tables
    assert percent(0, 0) == "–"


def test_n_pct_and_round_half_up() -> None:
    assert n_pct(6, 13) == "6 (46.2)"
    assert round_half_up(0.125, 2) == "0.13"
    assert round_half_up(2.675, 2) == "2.68"  # repr-based, not binary 2.67499…


# --- model -------------------------------------------------------------------------------


def test_table_checks_row_width() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 cells, expected 2"):
        Table(id="t", title="T", columns=("a", "b"), rows=(data_row("x"),))


def test_table_checks_spanner_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        Table(id="t", title="T", columns=("a", "b"), spanners=(Spanner("s", 1, 3),))


def test_builders_return_new_tables() -> None:
    t = Table(id="t", title="T", columns=("a",))
    t2 = t.with_rows(data_row("x")).with_footnotes("note")
    assert t.rows == () and t.footnotes == ()
    assert t2.rows[0].texts == ("x",) and t2.footnotes == ("note",)
    with pytest.raises(AttributeError):
        t.title = "changed"  # type: ignore[misc]


def test_ints_become_numeric_cells() -> None:
    row = data_row("label", 3, Cell.number(-45.25, 1))
    assert row.cells[1] == Cell("3", 3, "0")
    assert row.cells[2].text == "-45.3" and row.cells[2].value == -45.25


# --- study tables ------------------------------------------------------------------------


def _row(table: Table, label: str) -> tuple[str, ...]:
    return next(r.texts for r in table.rows if r.texts[0] == label)


def test_table1_lists_each_criterion(results: dict[str, Any]) -> None:
    t = resistance_table(results["resistance"])
    assert len(t.rows) == 3
    assert t.rows[1].texts[0] == "Objective response"
    assert "Schoenfeld" in t.footnotes[0]


def test_table1_writes_method_codes_in_words(results: dict[str, Any]) -> None:
    results["resistance"]["criteria"][1]["applied_as"] = "CR or PR by recist1.1, unconfirmed"
    t = resistance_table(results["resistance"])
    assert t.rows[1].texts[2] == "CR or PR by RECIST 1.1, unconfirmed"


def test_table2_efficacy_values(results: dict[str, Any]) -> None:
    t = efficacy_table(results["efficacy"], results["methods"])
    assert t.columns == ("Response", "First ICI course (n = 13)", "ICI rechallenge (n = 13)")
    assert _row(t, "Stable disease (SD)") == ("Stable disease (SD)", "0 (0.0)", "8 (61.5)")
    assert _row(t, "Partial response (PR)")[1] == "13 (100.0)"
    dcr = next(i for i, r in enumerate(t.rows) if r.texts[0].startswith("Disease control"))
    assert t.rows[dcr].texts[2] == "8 (61.5)"
    assert t.rows[dcr + 1].texts == ("95% CI, %", "75.3–100.0", "31.6–86.1")
    assert any("exact Clopper–Pearson" in n for n in t.footnotes)
    assert any("RECIST version 1.1" in n and "without confirmation" in n for n in t.footnotes)
    assert any("investigator assessment for 2 of 13" in n for n in t.footnotes)


def test_table2_data_sheet_is_unrounded(results: dict[str, Any]) -> None:
    t = efficacy_table(results["efficacy"], results["methods"])
    assert t.data is not None
    rows = {(r[0], r[1]): r for r in t.data.rows}
    sd = rows[("ICI rechallenge", "Stable disease")]
    assert sd[2:5] == (8, 13, 100 * 8 / 13)
    dcr = rows[("ICI rechallenge", "Disease control rate (CR + PR + SD)")]
    assert dcr[5] == pytest.approx(31.58) and dcr[6] == pytest.approx(86.14)


def test_table2_reads_ci_limits_from_results(results: dict[str, Any]) -> None:
    results["efficacy"]["rechallenge"]["dcr"]["lower"] = 0.25
    t = efficacy_table(results["efficacy"])
    assert t.rows[-1].texts[2] == "25.0–86.1"


def test_table3_baseline_with_comparison(results: dict[str, Any]) -> None:
    t = baseline_table(results["baseline"])
    assert t.columns[2:] == ("ECOG PS 0–1 (n = 8)", "ECOG PS 2 (n = 5)", "p", "Test")
    assert t.spanners == (Spanner("ECOG performance status", 2, 4),)
    assert _row(t, "Age, years, median (IQR)")[:2] == ("Age, years, median (IQR)", "67 (63–69)")
    assert _row(t, "Range")[1] == "58–70"
    assert _row(t, "Male") == ("Male", "10 (76.9)", "6 (75.0)", "4 (80.0)", "", "")
    assert _row(t, "Sex, n (%)")[4:] == ("1.000", "Fisher exact")
    sex = next(r for r in t.rows if r.texts[0] == "Sex, n (%)")
    assert sex.cells[4].value == 1.0 and sex.cells[4].number_format is not None
    assert _row(t, "Adenosquamous carcinoma")[1] == "1 (7.7)"
    male = next(r for r in t.rows if r.texts[0] == "Male")
    assert male.indent == 1


def test_table3_labels_replace_codes(results: dict[str, Any]) -> None:
    row = results["baseline"]["rows"][3]  # smoking, ever
    row.update(variable="smoking_status", label="smoking_status", level_label=None)
    results["baseline"]["rows"][4].update(variable="smoking_status", label="smoking_status")
    t = baseline_table(results["baseline"])
    assert "Smoking history, n (%)" in [r.texts[0] for r in t.rows]
    assert "Ever" in [r.texts[0] for r in t.rows]


def test_table3_without_comparison(results: dict[str, Any]) -> None:
    results["baseline"]["comparison"] = None
    t = baseline_table(results["baseline"])
    assert t.columns == ("Characteristic", "All patients (n = 13)")
    assert t.spanners == ()


def test_table4_adverse_events(results: dict[str, Any]) -> None:
    t = adverse_event_table(results["adverse_events"], results["methods"])
    assert [s.label for s in t.spanners] == [
        "First ICI course (n = 13)",
        "ICI rechallenge (n = 13)",
    ]
    assert _row(t, "Fatigue") == ("Fatigue", "6 (46.2)", "1 (7.7)", "4 (30.8)", "0 (0.0)")
    assert _row(t, "Anemia") == ("Anemia", "5 (38.5)", "2 (15.4)", "5 (38.5)", "1 (7.7)")
    assert _row(t, "Anorexia")[1:3] == ("0 (0.0)", "0 (0.0)")
    assert "NCI CTCAE version 4.0" in t.footnotes[0]
    assert t.footnotes[-1] == "No grade 5 events."


def test_table4_uses_counts_not_the_rounded_percent_in_results(results: dict[str, Any]) -> None:
    results["adverse_events"]["initial"][0]["any_grade_pct"] = 46.1  # as the paper printed
    t = adverse_event_table(results["adverse_events"])
    assert _row(t, "Fatigue")[1] == "6 (46.2)"


def test_attrition_words_the_failure_consort_style(results: dict[str, Any]) -> None:
    steps = results["cohort"]["attrition"]
    steps[3]["criterion"] = "age_range"  # catalogue wording, thresholds from the config
    steps[4]["failure_label"] = "First ICI course stopped for toxicity"
    t = build_tables(results)["table_attrition"]
    assert t.columns[:3] == ("Step", "Criterion", "Reason for exclusion")
    assert [r.texts[0] for r in t.rows if r.kind == "group"] == [
        "Inclusion criteria",
        "Exclusion criteria",
    ]
    assert _row(t, "4")[2] == "Age < 18 or > 75 years"
    assert _row(t, "4")[1] == "Age 18–75 years at the start of rechallenge"
    assert _row(t, "5")[2] == "First ICI course stopped for toxicity"
    assert _row(t, "7")[2] == "ECOG performance status > 2"  # an exclusion: its own words
    assert _row(t, "4")[3:] == ("18", "2", "16")


def test_build_tables_skips_absent_parts(results: dict[str, Any]) -> None:
    for key in ("adverse_events", "cox", "baseline", "km"):
        del results[key]
    ids = list(build_tables(results))
    assert ids == ["table_attrition", "table1_resistance", "table2_efficacy"]
    assert build_tables({}) == {}


def test_build_tables_page_size_from_configuration(results: dict[str, Any]) -> None:
    assert {t.page_size for t in build_tables(results).values()} == {"A4"}
    results["manifest"]["config"]["output"] = {"page_size": "Letter"}
    assert {t.page_size for t in build_tables(results).values()} == {"Letter"}


def test_every_table_has_a_data_sheet(results: dict[str, Any]) -> None:
    for table in build_tables(results).values():
        assert table.data is not None, table.id
        assert table.data.rows, table.id


def test_table2_ci_method_named_in_words_or_code(results: dict[str, Any]) -> None:
    for key in ("orr", "dcr"):
        results["efficacy"]["rechallenge"][key]["method"] = "Clopper-Pearson exact"
    t = efficacy_table(results["efficacy"], results["methods"])
    assert "95% confidence intervals (CI): exact Clopper–Pearson intervals." in t.footnotes
