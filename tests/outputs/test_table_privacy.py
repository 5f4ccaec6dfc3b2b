"""Shareable outputs: small-cell suppression and formula-injection escaping of data frames."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from rechallenge.tables.common import Context
from rechallenge.tables.model import Table
from rechallenge.tables.render import neutralise_formulas, protect_formula, to_csv, to_xlsx
from rechallenge.tables.study import build_tables


def _row(t: Table, label: str) -> tuple[str, ...]:
    return next(r.texts for r in t.rows if r.texts[0] == label)


def _with_threshold(results: dict[str, Any], threshold: int | None) -> dict[str, Any]:
    results["manifest"]["config"]["output"] = {"small_cell_threshold": threshold}
    return results


# --- small cells -------------------------------------------------------------------------


def test_suppression_is_off_by_default(results: dict[str, Any]) -> None:
    tables = build_tables(_with_threshold(results, None))
    assert _row(tables["table4_adverse_events"], "Anemia")[4] == "1 (7.7)"
    assert not any("suppression" in n for t in tables.values() for n in t.footnotes)


def test_counts_up_to_the_threshold_are_suppressed(results: dict[str, Any]) -> None:
    tables = build_tables(_with_threshold(results, 5))
    ae = tables["table4_adverse_events"]
    # counts 1–5 show "≤ 5" without a percentage; 0 and counts above 5 are shown
    assert _row(ae, "Fatigue") == ("Fatigue", "6 (46.2)", "≤ 5", "≤ 5", "0 (0.0)")
    eff = tables["table2_efficacy"]
    assert _row(eff, "Progressive disease (PD)")[2] == "≤ 5"
    assert _row(eff, "Stable disease (SD)")[2] == "8 (61.5)"
    base = tables["table3_baseline"]
    assert _row(base, "Female")[1:4] == ("≤ 5", "≤ 5", "≤ 5")
    assert _row(base, "Male")[1:3] == ("10 (76.9)", "6 (75.0)")
    for tid in ("table2_efficacy", "table3_baseline", "table4_adverse_events", "table5_survival"):
        assert any("≤ 5" in n and "suppression" in n for n in tables[tid].footnotes), tid


def test_suppressed_ci_is_withheld(results: dict[str, Any]) -> None:
    results["efficacy"]["rechallenge"]["bor"].update(SD=3, PD=10)
    t = build_tables(_with_threshold(results, 5))["table2_efficacy"]
    dcr = next(i for i, r in enumerate(t.rows) if r.texts[0].startswith("Disease control"))
    assert t.rows[dcr].texts[2] == "≤ 5"
    assert t.rows[dcr + 1].texts[2] == "—"  # a CI would reveal the count


def test_data_sheet_is_suppressed_too(results: dict[str, Any], tmp_path: Path) -> None:
    t = build_tables(_with_threshold(results, 5))["table4_adverse_events"]
    ws = load_workbook(to_xlsx(t, tmp_path / "t.xlsx"))["data"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    counts = [v[3] for v in values]
    assert all(not (isinstance(n, int) and 1 <= n <= 5) for n in counts)
    hidden = [v for v in values if v[3] == "≤ 5"]
    assert hidden and all(v[5] is None for v in hidden)  # no percentage either


def test_survival_counts_suppressed(results: dict[str, Any]) -> None:
    t = build_tables(_with_threshold(results, 5))["table5_survival"]
    os_rows = [r.texts for r in t.rows if r.texts[0] == "2"]
    assert os_rows and all(row[1] == "≤ 5" for row in os_rows)


def test_context_rules() -> None:
    ctx = Context(small_cell=3)
    assert [ctx.suppressed(n) for n in (0, 1, 3, 4)] == [False, True, True, False]
    assert ctx.n_pct(2, 10) == "≤ 3" and ctx.n_pct(4, 10) == "4 (40.0)"
    assert ctx.data_percent(2, 10) is None and ctx.data_percent(4, 10) == 40.0
    assert not Context().suppressed(1)


# --- formula injection -------------------------------------------------------------------


def test_neutralise_formulas_on_a_data_frame() -> None:
    frame = pd.DataFrame(
        {
            "AETERM": ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2", "-x"],
            "AESEV": pd.Categorical(["=1", "MILD", "MILD", "\tTAB", "\rCR"]),
            "AVAL": [-1.5, 2.0, 3.0, 4.0, 5.0],
            "N": [1, 2, 3, 4, 5],
            "FLAG": [True, False, True, False, True],
            "NOTE": ["ok", None, "fine", "-3.5e2", "'quoted"],
        }
    )
    before = frame.copy()
    out = neutralise_formulas(frame)
    assert out["AETERM"].tolist() == [
        '\'=HYPERLINK("http://x","y")',
        "'+1+1",
        "'@SUM(A1)",
        "-2",  # a negative number is data
        "'-x",
    ]
    assert out["AESEV"].tolist() == ["'=1", "MILD", "MILD", "'\tTAB", "'\rCR"]
    assert isinstance(out["AESEV"].dtype, pd.CategoricalDtype)
    assert out["NOTE"].tolist()[0] == "ok" and pd.isna(out["NOTE"].tolist()[1])
    assert out["NOTE"].tolist()[3:] == ["-3.5e2", "'quoted"]
    assert out["AVAL"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0]
    assert out["N"].dtype == frame["N"].dtype and out["FLAG"].dtype == bool
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified


def test_neutralised_frame_written_as_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({"AETERM": ["=1+2", "@x", "Fatigue"], "AVAL": [-1, 0, 1]})
    path = tmp_path / "adae.csv"
    neutralise_formulas(frame).to_csv(path, index=False)
    with path.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    assert lines[1:] == [["'=1+2", "-1"], ["'@x", "0"], ["Fatigue", "1"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2", "-2"),
        ("-45.25", "-45.25"),
        ("-.5", "-.5"),
        ("-1e5", "-1e5"),
        ("-x", "'-x"),
        ("-2+3", "'-2+3"),
        ("- 2", "'- 2"),
        ("+2", "'+2"),
    ],
)
def test_negative_numbers_are_not_escaped(text: str, expected: str) -> None:
    assert protect_formula(text) == expected


def test_every_written_text_cell_is_protected(results: dict[str, Any], tmp_path: Path) -> None:
    results["adverse_events"]["initial"][0]["term"] = '=HYPERLINK("http://x")'
    t = build_tables(results)["table4_adverse_events"]
    wb = load_workbook(to_xlsx(t, tmp_path / "t.xlsx"))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "@", "\t", "\r"))
    with to_csv(t, tmp_path / "t.csv").open(encoding="utf-8-sig") as fh:
        assert "'=HYPERLINK" in fh.read()


def test_neutralise_formulas_edge_cases() -> None:
    frame = pd.DataFrame([["=a", "=b", "'=a"]], columns=["X", "X", "=Y"])
    frame["C"] = pd.Categorical(["=a"], categories=["=a", "'=a"])
    out = neutralise_formulas(frame)
    assert out.iloc[0].tolist() == ["'=a", "'=b", "'=a", "'=a"]  # repeated names by position
    assert out.columns.tolist() == ["X", "X", "'=Y", "C"]


def test_attrition_says_it_is_not_suppressed(results: dict[str, Any]) -> None:
    assert len(build_tables(results)["table_attrition"].footnotes) == 1
    t = build_tables(_with_threshold(results, 5))["table_attrition"]
    assert any("not applied to this table" in n for n in t.footnotes)
    assert next(r.texts[4] for r in t.rows if r.kind == "data") == "1"
