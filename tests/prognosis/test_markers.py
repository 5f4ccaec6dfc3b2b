"""Markers at the rechallenge baseline on hand vectors: window edges, nearest-before, units."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rechallenge.derive.markers import MarkerSettings, derive_markers, marker_methods

START = pd.Timestamp("2023-03-31")


def _labs(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["patient_id", "date", "test", "value", "unit"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


def _patients(ids: list[str], **columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": ids, **columns})


def _starts(ids: list[str], start: pd.Timestamp | None = START) -> pd.Series:
    return pd.Series([start] * len(ids), index=ids, dtype="datetime64[ns]")


def test_nlr_takes_the_latest_count_on_or_before_the_first_dose() -> None:
    labs = _labs(
        [
            ("A", "2023-03-01", "neutrophils", 9.0, "10^9/L"),  # 30 days: inside
            ("A", "2023-03-31", "neutrophils", 6.0, "10^9/L"),  # the same day: nearest
            ("A", "2023-04-01", "neutrophils", 1.0, "10^9/L"),  # after the first dose
            ("A", "2023-03-20", "lymphocytes", 2.0, "10^9/L"),
        ]
    )
    out = derive_markers(_patients(["A"]), labs, _starts(["A"]), MarkerSettings())
    assert out.table.loc[0, "nlr"] == pytest.approx(3.0)
    assert out.table.loc[0, "nlr_low"] == 1.0  # 3.0 < 3.8


def test_nlr_window_edges_are_inclusive_and_one_day_more_is_out() -> None:
    labs = _labs(
        [
            ("A", "2023-03-01", "neutrophils", 8.0, "10^9/L"),  # exactly 30 days before
            ("A", "2023-03-01", "lymphocytes", 2.0, "10^9/L"),
            ("B", "2023-02-28", "neutrophils", 8.0, "10^9/L"),  # 31 days before
            ("B", "2023-03-01", "lymphocytes", 2.0, "10^9/L"),
        ]
    )
    out = derive_markers(_patients(["A", "B"]), labs, _starts(["A", "B"]), MarkerSettings())
    assert out.table["nlr"].tolist()[0] == pytest.approx(4.0)
    assert out.table.loc[0, "nlr_low"] == 0.0
    assert math.isnan(out.table["nlr"].tolist()[1])
    assert out.missing["nlr"] == {"no neutrophil count in the 30 days before the first dose": 1}
    wider = derive_markers(
        _patients(["B"]), labs, _starts(["B"]), MarkerSettings(nlr_window_days=31)
    )
    assert wider.table.loc[0, "nlr"] == pytest.approx(4.0)


def test_nlr_converts_counts_per_mm3_to_10_9_per_litre() -> None:
    labs = _labs(
        [
            ("A", "2023-03-30", "neutrophils", 4500.0, "cells/mm3"),
            ("A", "2023-03-30", "lymphocytes", 1.5, "10^9/L"),
            ("B", "2023-03-30", "neutrophils", 5.0, "10^3/µL"),
            ("B", "2023-03-30", "lymphocytes", 1000.0, "/µL"),
        ]
    )
    out = derive_markers(_patients(["A", "B"]), labs, _starts(["A", "B"]), MarkerSettings())
    assert out.table["nlr"].tolist() == pytest.approx([3.0, 5.0])


def test_missing_markers_are_counted_with_their_reason() -> None:
    labs = _labs(
        [
            ("A", "2023-03-30", "neutrophils", 4.0, "10^9/L"),
            ("A", "2023-03-30", "lymphocytes", 0.0, "10^9/L"),
            ("B", "2023-03-30", "neutrophils", 4.0, "10^9/L"),
        ]
    )
    ids = ["A", "B", "C"]
    starts = _starts(ids).copy()
    starts["C"] = pd.NaT
    out = derive_markers(
        _patients(ids, height_cm=[170.0, None, 180.0], weight_kg=[None, 60.0, 81.0]),
        labs,
        starts,
        MarkerSettings(),
    )
    assert out.table["nlr"].isna().all()
    assert out.missing["nlr"] == {
        "lymphocyte count 0": 1,
        "no lymphocyte count in the 30 days before the first dose": 1,
        "no rechallenge start": 1,
    }
    assert out.missing["bmi"] == {"no weight": 1, "no height": 1}
    assert out.table.loc[2, "bmi"] == pytest.approx(81.0 / 1.8**2)
    assert out.table.loc[2, "bmi_low"] == 0.0


def test_bmi_cut_point_is_inclusive() -> None:
    out = derive_markers(
        _patients(["A"], height_cm=[200.0], weight_kg=[80.0]),  # BMI exactly 20
        _labs([]),
        _starts(["A"]),
        MarkerSettings(),
    )
    assert out.table.loc[0, "bmi"] == pytest.approx(20.0)
    assert out.table.loc[0, "bmi_low"] == 1.0


def test_pdl1_retest_before_the_course_only_and_the_fallback() -> None:
    ids = ["A", "B", "C", "D"]
    patients = _patients(
        ids,
        pdl1_tps=[80.0, 10.0, 5.0, None],
        pdl1_retest_tps=[20.0, 60.0, None, 1.0],
        pdl1_retest_date=pd.to_datetime(["2023-03-31", "2023-04-02", None, "2022-01-01"]),
    )
    strict = derive_markers(patients, _labs([]), _starts(ids), MarkerSettings())
    assert strict.table["pdl1_retest"].tolist()[0] == 20.0  # on the day of the first dose
    assert strict.table["pdl1_retest"].tolist()[3] == 1.0
    assert strict.table["pdl1_retest"].isna().tolist() == [False, True, True, False]
    assert strict.missing["pdl1_retest"] == {"re-tested after the first dose": 1, "no re-test": 1}
    windowed = derive_markers(
        patients, _labs([]), _starts(ids), MarkerSettings(pdl1_window_days=365)
    )
    assert windowed.table["pdl1_retest"].isna().tolist() == [False, True, True, True]
    fallback = derive_markers(
        patients, _labs([]), _starts(ids), MarkerSettings(pdl1_fallback="diagnostic")
    )
    assert fallback.table["pdl1_retest"].tolist() == [20.0, 10.0, 5.0, 1.0]
    assert fallback.missing["pdl1_retest"] == {}


def test_absent_optional_columns_give_no_values_not_an_error() -> None:
    out = derive_markers(_patients(["A"]), _labs([]), _starts(["A"]), MarkerSettings())
    assert out.table[["nlr", "bmi", "pdl1_retest"]].isna().all().all()
    assert out.missing["bmi"] == {"no height and no weight": 1}


def test_methods_state_the_rules_with_the_configured_numbers() -> None:
    text = " ".join(marker_methods(MarkerSettings(nlr_window_days=14, nlr_cutoff=3.0)))
    assert "at most 14 days earlier" in text
    assert "NLR below 3 was taken as favourable" in text
    assert "20 kg/m² or less" in text
