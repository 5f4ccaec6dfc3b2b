"""Table 5: Kaplan–Meier medians, landmark rates (0 and not estimable), median follow-up."""

from __future__ import annotations

from typing import Any

import pytest

from rechallenge.tables.model import Table
from rechallenge.tables.study import build_tables, survival_table
from rechallenge.tables.survival import median_text, rate_text

FOLLOW_UP = {
    "endpoint": "OS",
    "method": "reverse_km",
    "n": 13,
    "median_months": 10.31,
    "lower": 7.9,
    "upper": None,
    "median_days": 314,
}


def _rows_of(t: Table, endpoint_label: str) -> list[tuple[str, ...]]:
    texts = [r.texts for r in t.rows]
    start = texts.index(next(x for x in texts if x[0] == endpoint_label))
    end = next((i for i in range(start + 1, len(t.rows)) if t.rows[i].kind == "group"), len(t.rows))
    return texts[start + 1 : end]


def test_columns_and_pfsr_values(results: dict[str, Any]) -> None:
    t = survival_table(results)
    assert t.columns == (
        "Endpoint and subgroup",
        "N",
        "Events",
        "Median, months (95% CI)",
        "6-month rate, % (95% CI)",
        "12-month rate, % (95% CI)",
        "p",
    )
    pfsr = _rows_of(t, "Progression-free survival on rechallenge (PFSR)")
    assert pfsr[0] == ("All patients", "13", "12", "2.9 (1.9–11.0)", "38.5 (19.3–76.5)", "0.0", "")
    assert pfsr[1] == ("ECOG performance status", "", "", "", "", "", "0.004")
    assert pfsr[3][0] == "2" and pfsr[3][4] == "0.0"  # the curve reached 0 before 6 months


def test_rates_zero_and_not_estimable() -> None:
    assert rate_text({"surv": 0.0, "lower": None, "upper": None, "estimable": True}) == "0.0"
    assert rate_text({"surv": 0.0, "lower": 0.0, "upper": 0.0}) == "0.0"
    assert rate_text({"surv": None, "lower": None, "upper": None, "estimable": False}) == (
        "Not estimable"
    )
    assert rate_text({"surv": 0.3846, "lower": 0.1934, "upper": 0.765}) == "38.5 (19.3–76.5)"
    assert rate_text(None) == "—"


def test_not_estimable_only_when_null(results: dict[str, Any]) -> None:
    rates = results["km"]["OS"]["all"]["rates"]
    rates[1].update(surv=None, lower=None, upper=None, estimable=False, n_risk=0)
    t = survival_table(results)
    os_all = _rows_of(t, "Overall survival from the start of rechallenge (OS)")[0]
    assert os_all[4:6] == ("67.1 (45.3–99.6)", "Not estimable")


def test_medians() -> None:
    assert median_text(2.9, 1.9, 11.0) == "2.9 (1.9–11.0)"
    assert median_text(None, 6.0, None) == "Not reached (6.0–NR)"
    assert median_text(None, None, None) == "Not reached"


def test_median_follow_up_row_and_note(results: dict[str, Any]) -> None:
    own = survival_table(results)  # the example run's follow-up: 12.4 months (10.1–NR)
    assert _rows_of(own, "Overall survival from the start of rechallenge (OS)")[1] == (
        "Median follow-up",
        "13",
        "",
        "12.4 (10.1–NR)",
        "",
        "",
        "",
    )
    without = dict(results)
    del without["follow_up"]
    assert not any("Median follow-up" in n for n in survival_table(without).footnotes)
    assert not any(r.texts[0] == "Median follow-up" for r in survival_table(without).rows)
    results["follow_up"] = dict(FOLLOW_UP)
    t = build_tables(results)["table5_survival"]
    os_rows = _rows_of(t, "Overall survival from the start of rechallenge (OS)")
    assert os_rows[1] == ("Median follow-up", "13", "", "10.3 (7.9–NR)", "", "", "")
    assert any("reverse Kaplan–Meier method" in n for n in t.footnotes)
    assert t.data is not None
    fu = next(r for r in t.data.rows if r[2] == "Median follow-up")
    assert fu[4] == 10.31 and fu[5] == 7.9


def test_data_sheet_keeps_unrounded_rates(results: dict[str, Any]) -> None:
    t = survival_table(results)
    assert t.data is not None
    rate = next(r for r in t.data.rows if r[:4] == ("PFSR", "All patients", "Survival rate", 6))
    assert rate[4:7] == (0.3846, 0.1934, 0.765)


def test_skips_non_curve_entries(results: dict[str, Any]) -> None:
    results["km"]["PFSR"]["days_per_month"] = 30.4375  # as real results carry
    t = survival_table(results)
    assert "Days per month" not in [r.texts[0] for r in t.rows]


def test_no_table_when_no_curve_was_estimated(results: dict[str, Any]) -> None:
    results["km"] = {"PFSR": {"days_per_month": 30.4375}}
    assert "table5_survival" not in build_tables(results)
    with pytest.raises(ValueError, match="no Kaplan–Meier curves"):
        survival_table(results)


def test_no_curves_no_table(results: dict[str, Any]) -> None:
    # an empty cohort: each endpoint holds only its month length, no curve
    results["km"] = {e: {"days_per_month": 30.4375} for e in ("PFS1", "PFSR", "OS")}
    assert "table5_survival" not in build_tables(results)
