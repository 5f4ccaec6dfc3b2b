"""Adverse events: phase assignment, reported + lab merge, worst grade once, per-phase summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from rechallenge.rules.adverse_events import (
    AdverseEventInputError,
    AdverseEventSettings,
    PhaseWindow,
    collect_events,
    format_n_pct,
    merge_adverse_events,
    phase_window,
    summarise_adverse_events,
    worst_grades,
)
from rechallenge.rules.ctcae import grade_labs

T = pd.Timestamp


def windows(settings: AdverseEventSettings | None = None) -> dict[str, PhaseWindow]:
    return {
        # initial window ends 2023-07-30, rechallenge window 2023-10-01 .. 2024-03-01
        "A": phase_window(
            T("2023-01-01"), T("2023-06-30"), T("2023-10-01"), T("2024-01-31"), settings
        ),
        # initial tail (to 2023-03-31) cut the day before the rechallenge: 2023-03-19
        "B": phase_window(T("2023-01-01"), T("2023-03-01"), T("2023-03-20"), None, settings),
        # initial course ongoing, no rechallenge: open window
        "C": phase_window(T("2023-01-01"), None, None, None, settings),
    }


def test_phase_window_arithmetic() -> None:
    w = windows()
    assert w["A"] == PhaseWindow(T("2023-01-01"), T("2023-07-30"), T("2023-10-01"), T("2024-03-01"))
    assert w["B"] == PhaseWindow(T("2023-01-01"), T("2023-03-19"), T("2023-03-20"), None)
    assert w["C"] == PhaseWindow(T("2023-01-01"), None, None, None)
    longer = phase_window(
        T("2023-01-01"), T("2023-06-30"), settings=AdverseEventSettings(treatment_emergent_days=90)
    )
    assert longer.initial_end_of_window == T("2023-09-28")


# (expected phase, patient, onset date, comment)
PHASE_CASES = [
    ("none", "A", "2022-12-31", "day before the first dose"),
    ("initial", "A", "2023-01-01", "first dose day"),
    ("initial", "A", "2023-07-30", "last dose + 30 days, inclusive"),
    ("none", "A", "2023-07-31", "last dose + 31 days: between the phases"),
    ("none", "A", "2023-09-30", "day before rechallenge"),
    ("rechallenge", "A", "2023-10-01", ""),
    ("rechallenge", "A", "2024-03-01", "rechallenge last dose + 30"),
    ("none", "A", "2024-03-02", ""),
    ("none", "A", None, "no onset date: kept, phase none"),
    ("initial", "B", "2023-03-19", "tail cut at the next start"),
    ("rechallenge", "B", "2023-03-20", ""),
    ("rechallenge", "B", "2026-01-01", "ongoing rechallenge: open window"),
    ("initial", "C", "2030-01-01", "ongoing initial course: open window"),
    ("none", "Z", "2023-05-01", "patient without windows"),
]


@pytest.mark.parametrize(("expected", "patient", "onset", "comment"), PHASE_CASES)
def test_phase_assignment(expected: str, patient: str, onset: str | None, comment: str) -> None:
    reported = pd.DataFrame(
        {
            "patient_id": [patient],
            "term": ["Fatigue"],
            "grade": [1],
            "onset_date": [pd.NaT if onset is None else T(onset)],
            "source_row": [2],
        }
    )
    events = collect_events(reported, None, windows())
    assert events["phase"].tolist() == [expected], comment


def test_treatment_emergent_days_setting_moves_events() -> None:
    reported = pd.DataFrame(
        {
            "patient_id": ["A"],
            "term": ["Fatigue"],
            "grade": [2],
            "onset_date": [T("2023-08-15")],
            "source_row": [2],
        }
    )
    assert collect_events(reported, None, windows())["phase"].tolist() == ["none"]
    s90 = AdverseEventSettings(treatment_emergent_days=90)
    assert collect_events(reported, None, windows(s90), s90)["phase"].tolist() == ["initial"]


def _labs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["A", "A", "A", "A", "B", "B"],
            "date": [
                T("2023-04-01"),
                T("2023-11-05"),
                T("2023-05-01"),
                T("2023-06-01"),
                T("2023-02-01"),
                T("2023-04-01"),
            ],
            "test": ["hemoglobin", "hemoglobin", "hemoglobin", "neutrophils", "neutrophils", "alt"],
            # Hb 7.5 g/dL -> 3; Hb 11 (LLN 12) -> 1; Hb 13 -> 0 (not an event);
            # ANC 0.8 -> 3; ANC 0.4 -> 4; ALT without ULN under strict limits -> unknown
            "value": [7.5, 11.0, 13.0, 0.8, 0.4, 500.0],
            "unit": ["g/dL", "g/dL", "g/dL", "10^9/L", "10^9/L", "U/L"],
            "lln": [12.0, 12.0, 12.0, 2.0, 2.0, np.nan],
            "uln": [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
            "source_row": [2, 3, 4, 5, 6, 7],
        }
    )


def _reported() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["A", "A", "A", "A", "B", "B"],
            "term": ["Fatigue", "Anemia", "anemia ", "Fatigue", "Pneumonitis", "Fatigue"],
            "grade": [1, 2, 1, 2, 5, 3],
            "onset_date": [
                T("2023-02-01"),
                T("2023-03-01"),
                T("2023-11-01"),
                T("2023-08-15"),
                T("2023-05-01"),
                T("2023-02-10"),
            ],
            "immune_related": [False, False, pd.NA, False, True, pd.NA],
            "source_row": [2, 3, 4, 5, 6, 7],
        }
    )


def _graded(version: str = "4.0") -> pd.DataFrame:
    return grade_labs(_labs(), {"A": "male", "B": "female"}, version)  # type: ignore[arg-type]


def test_merge_worst_grade_once_with_sources() -> None:
    worst = merge_adverse_events(_reported(), _graded(), windows())
    got = worst[
        [
            "patient_id",
            "phase",
            "term",
            "grade",
            "source",
            "worst_source",
            "n_events",
            "reported_rows",
            "lab_rows",
        ]
    ]
    expected = pd.DataFrame(
        [
            ("A", "initial", "Anemia", 3, "both", "lab", 2, (3,), (2,)),  # lab G3 beats reported G2
            ("A", "initial", "Fatigue", 1, "reported", "reported", 1, (2,), ()),
            ("A", "initial", "Neutrophil count decreased", 3, "lab", "lab", 1, (), (5,)),
            ("A", "none", "Fatigue", 2, "reported", "reported", 1, (5,), ()),  # between phases
            ("A", "rechallenge", "Anemia", 1, "both", "both", 2, (4,), (3,)),  # 'anemia ' merged
            ("B", "initial", "Fatigue", 3, "reported", "reported", 1, (7,), ()),
            ("B", "initial", "Neutrophil count decreased", 4, "lab", "lab", 1, (), (6,)),
            # no ULN on the row: default 40 U/L, 500 = 12.5 x ULN
            (
                "B",
                "rechallenge",
                "Alanine aminotransferase increased",
                3,
                "lab",
                "lab",
                1,
                (),
                (7,),
            ),
            ("B", "rechallenge", "Pneumonitis", 5, "reported", "reported", 1, (6,), ()),
        ],
        columns=got.columns,
    )
    got = got.assign(grade=got["grade"].astype(int))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_immune_related_is_carried_from_reported_events() -> None:
    worst = merge_adverse_events(_reported(), _graded(), windows())
    flags = worst.set_index(["patient_id", "phase", "term"])["immune_related"]
    assert bool(flags[("B", "rechallenge", "Pneumonitis")])
    assert pd.isna(flags[("A", "initial", "Neutrophil count decreased")])  # lab only: unknown
    assert not bool(flags[("A", "initial", "Anemia")])


def test_lab_events_can_be_excluded() -> None:
    settings = AdverseEventSettings(include_lab_events=False)
    worst = merge_adverse_events(_reported(), _graded(), windows(), settings)
    assert set(worst["source"]) == {"reported"}
    assert len(worst) == 6


def test_grade_zero_and_unknown_lab_rows_are_not_events() -> None:
    from rechallenge.rules.ctcae import CtcaeSettings

    graded = grade_labs(
        _labs(), {"A": "male", "B": "female"}, settings=CtcaeSettings(missing_limit="unknown")
    )
    events = collect_events(None, graded, windows())
    assert sorted(events["source_row"].tolist()) == [2, 3, 5, 6]  # row 4 grade 0, row 7 unknown


def test_mixed_ctcae_versions_are_refused() -> None:
    with pytest.raises(AdverseEventInputError, match=r"CTCAE \['5.0'\].*rows 2, 3"):
        collect_events(None, _graded("5.0"), windows())
    settings = AdverseEventSettings(ctcae_version="5.0")
    assert len(collect_events(None, _graded("5.0"), windows(), settings)) == 5


@pytest.mark.parametrize("bad", [0, 6, 2.5, "III", "3-4"])
def test_invalid_reported_grade(bad: object) -> None:
    reported = _reported().astype({"grade": object})
    reported.loc[1, "grade"] = bad
    with pytest.raises(AdverseEventInputError, match=r"grade must be an integer 1-5 \(rows 3\)"):
        collect_events(reported, None, windows())


def test_unknown_reported_grade_is_kept() -> None:
    reported = _reported().astype({"grade": "Int64"})
    reported.loc[0, "grade"] = pd.NA
    worst = worst_grades(collect_events(reported, None, windows()))
    row = worst[
        (worst["patient_id"] == "A") & (worst["term"] == "Fatigue") & (worst["phase"] == "initial")
    ]
    assert row["grade"].isna().all() and row["n_events"].tolist() == [1]


def test_summary_counts_patients_once_with_rounded_percentages() -> None:
    # 13 patients; Anemia in 5 (one at grade 3), Fatigue in 6 (one at grade 5 -> not in 3-4).
    rows = [(f"P{i}", "Anemia", 3 if i == 0 else 1) for i in range(5)]
    rows += [(f"P{i}", "Fatigue", 5 if i == 0 else 2) for i in range(6)]
    rows += [("P0", "Anemia", 2)]  # second event of the same patient and term: counts once
    reported = pd.DataFrame(rows, columns=["patient_id", "term", "grade"]).assign(
        onset_date=T("2023-02-01"), source_row=range(2, len(rows) + 2)
    )
    w = {f"P{i}": phase_window(T("2023-01-01"), T("2023-12-31")) for i in range(13)}
    summary = summarise_adverse_events(merge_adverse_events(reported, None, w), 13)
    got = summary[["phase", "term", "any", "grade_3_4", "grade_5"]].values.tolist()
    assert got == [
        ["initial", "Fatigue", "6 (46.2%)", "0 (0.0%)", "1 (7.7%)"],
        ["initial", "Anemia", "5 (38.5%)", "1 (7.7%)", "0 (0.0%)"],
    ]
    assert summary["pct_any"].tolist() == pytest.approx([600 / 13, 500 / 13])
    assert summary["denominator"].tolist() == [13, 13]


def test_summary_per_phase_denominators_and_phase_none_left_out() -> None:
    worst = merge_adverse_events(_reported(), _graded(), windows())
    summary = summarise_adverse_events(worst, {"initial": 2, "rechallenge": 2})
    assert list(summary["phase"].unique()) == ["initial", "rechallenge"]
    rech = summary[summary["phase"] == "rechallenge"].set_index("term")
    assert rech.loc["Pneumonitis", "grade_5"] == "1 (50.0%)"
    assert rech.loc["Pneumonitis", "n_grade_3_4"] == 0
    with pytest.raises(AdverseEventInputError, match="no denominator"):
        summarise_adverse_events(worst, {"initial": 2})
    with_none = summarise_adverse_events(worst, {"none": 2}, phases=("none",))
    assert with_none["term"].tolist() == ["Fatigue"]


@pytest.mark.parametrize(
    ("n", "d", "decimals", "text"),
    [
        (1, 13, 1, "1 (7.7%)"),  # the seed paper prints 7.8%
        (4, 13, 1, "4 (30.8%)"),  # the paper prints 30.7%
        (6, 13, 1, "6 (46.2%)"),  # the paper prints 46.1%
        (1, 16, 1, "1 (6.3%)"),  # 6.25: half up, not half even
        (1, 40, 0, "1 (3%)"),  # 2.5 -> 3
        (0, 13, 1, "0 (0.0%)"),
        (3, 0, 1, "3 (-)"),
    ],
)
def test_format_n_pct(n: int, d: int, decimals: int, text: str) -> None:
    assert format_n_pct(n, d, decimals) == text


def test_empty_inputs() -> None:
    assert merge_adverse_events(None, None, windows()).empty
    assert summarise_adverse_events(worst_grades(collect_events(None, None, {})), 5).empty


def test_settings_defaults_and_strictness() -> None:
    s = AdverseEventSettings()
    assert (s.ctcae_version, s.treatment_emergent_days, s.include_lab_events) == ("4.0", 30, True)
    with pytest.raises(ValidationError):
        AdverseEventSettings(window=30)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        AdverseEventSettings(treatment_emergent_days=-1)
