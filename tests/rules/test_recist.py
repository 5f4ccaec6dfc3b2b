"""RECIST 1.1 engine: the test vectors of shared/reference/recist-1.1.md §11 and cases at and
beside every threshold. Tables list the expected output first; days count from the first dose
(course start); the baseline scan is on day -7 unless a row says otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from rechallenge.errors import DataValidationError
from rechallenge.rules.recist import (
    RecistSettings,
    overall_response,
)
from rechallenge.rules.response import evaluate_course
from rechallenge.rules.response_common import (
    RECIST_SCALE,
    BorRules,
    NewLesion,
    Response,
    bor_confirmed,
    bor_unconfirmed,
    investigator_response,
    reconcile,
)

START = pd.Timestamp("2023-03-01")
R = Response
DEFAULT = RecistSettings()
CONFIRM = RecistSettings(confirmation=True)


@dataclass(frozen=True)
class L:
    """One lesion row: id, role, size (None = blank), status, organ, nodal."""

    lesion_id: str
    role: str = "target"
    size: float | None = None
    status: str | None = None
    organ: str = "lung"
    node: bool = False


def lesions(visits: dict[int, list[L]], patient: str = "PX-001") -> pd.DataFrame:
    """A lesions table from {day: [lesions]}; source rows start at 2 like a spreadsheet."""
    rows = []
    for day, items in sorted(visits.items()):
        for item in items:
            rows.append(
                {
                    "patient_id": patient,
                    "assessment_date": START + pd.Timedelta(days=day),
                    "lesion_id": item.lesion_id,
                    "role": item.role,
                    "organ": "lymph_node" if item.node else item.organ,
                    "lymph_node": item.node,
                    "size_mm": float("nan") if item.size is None else item.size,
                    "status": item.status,
                    "source_row": len(rows) + 2,
                }
            )
    return pd.DataFrame(rows)


def sums(baseline: float, followups: list[tuple[int, float | None]], **kw: object) -> pd.DataFrame:
    """One non-nodal target whose size is the sum, plus a non-target bone lesion 'present'."""
    nt = kw.get("nt", "present")
    visits = {-7: [L("T1", size=baseline), L("N1", "non_target", status="present", organ="bone")]}
    for day, value in followups:
        visits[day] = [L("T1", size=value), L("N1", "non_target", status=nt, organ="bone")]
    return lesions(visits)  # type: ignore[arg-type]


def run(frame: pd.DataFrame, settings: RecistSettings = DEFAULT, end: int | None = None):  # type: ignore[no-untyped-def]
    course_end = None if end is None else START + pd.Timedelta(days=end)
    return evaluate_course(frame, START, course_end, settings)


def day(n: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=n)


# --- §11.1 target response (the last follow-up of each row) -------------------------------

TARGET_CASES = [
    # expected, id, baseline, follow-ups (day, sum)
    (R.PR, "T1 exactly -30%", 50, [(42, 35)]),
    (R.SD, "T2 -28%", 50, [(42, 36)]),
    (R.SD, "T3 +20% but only +4 mm", 20, [(42, 24)]),
    (R.PD, "T4 +25% and +5 mm", 20, [(42, 25)]),
    (R.PD, "T5 +20% vs nadir although -28% vs baseline", 100, [(42, 60), (84, 72)]),
    (R.PD, "T6 nadir is the baseline", 40, [(42, 45), (84, 48)]),
    (R.PR, "T10 +4 mm from nadir 5 fails the 5 mm rule", 30, [(42, 5), (84, 9)]),
    (R.PD, "T11 +5 mm and +100% vs nadir 5", 30, [(42, 5), (84, 9), (126, 10)]),
    (R.PR, "T14 33 -> 23.1 is exactly -30% (floats say SD)", 33, [(42, 23.1)]),
    (R.SD, "35.1 of 50: -29.8%", 50, [(42, 35.1)]),
    (R.PR, "34.9 of 50: -30.2%", 50, [(42, 34.9)]),
    (R.PD, "25 -> 30: exactly +20% and exactly +5 mm", 25, [(42, 30)]),
    (R.SD, "25 -> 29.9: +19.6%, +4.9 mm", 25, [(42, 29.9)]),
    (R.SD, "30 -> 35.9: +5.9 mm but +19.7%", 30, [(42, 35.9)]),
    (R.PD, "30 -> 36: +20%, +6 mm", 30, [(42, 36)]),
    (R.PD, "100 -> 120: +20% = +20 mm", 100, [(42, 120)]),
    (R.SD, "100 -> 119.9", 100, [(42, 119.9)]),
    (R.CR, "non-nodal target gone", 30, [(42, 0)]),
    (R.PR, "T9 'too small to measure' recorded as 5 mm is not 0", 30, [(42, 5)]),
    (R.PD, "reappearance 0 -> 5 mm meets PD vs nadir 0", 30, [(42, 0), (84, 5)]),
]


@pytest.mark.parametrize(("expected", "case", "baseline", "followups"), TARGET_CASES)
def test_target_response(
    expected: Response, case: str, baseline: float, followups: list[tuple[int, float]]
) -> None:
    result = run(sums(baseline, followups))
    assert result.timepoints[-1].target == expected, case


NODE_CASES = [
    # expected target, id, node short axis at follow-up (baseline lung 22 + node 18 = 40)
    (R.CR, "T7 node 8 mm: CR although SOD 8", 8.0),
    (R.CR, "node 9.9 mm", 9.9),
    (R.PR, "T8 node exactly 10 mm is not < 10", 10.0),
    (R.PR, "node 10.1 mm", 10.1),
]


@pytest.mark.parametrize(("expected", "case", "node_mm"), NODE_CASES)
def test_lymph_node_cr_threshold(expected: Response, case: str, node_mm: float) -> None:
    frame = lesions(
        {
            -7: [L("T1", size=22), L("T2", size=18, node=True)],
            42: [L("T1", size=0), L("T2", size=node_mm, node=True)],
        }
    )
    result = run(frame)
    point = result.timepoints[0]
    assert (point.target, point.overall) == (expected, expected), case
    assert point.sod_mm == node_mm  # node short axis stays in the sum


def test_missing_targets_lower_bound_pd_and_ne() -> None:
    baseline = [L("A", size=20), L("B", size=15, organ="liver"), L("C", size=15, organ="adrenal")]
    pd_frame = lesions({-7: baseline, 42: [L("A", size=40), L("B", size=40, organ="liver")]})
    ne_frame = lesions({-7: baseline, 42: [L("A", size=15), L("B", size=15, organ="liver")]})
    assert run(pd_frame).timepoints[0].target == R.PD  # T12: 80 from two lesions already PD
    assert run(ne_frame).timepoints[0].target == R.NE  # T13: 30 could be PR, SD or PD
    strict = RecistSettings(missing_target_rule="ne")
    assert run(pd_frame, strict).timepoints[0].target == R.NE  # the 'always NE' choice
    assert run(pd_frame).timepoints[0].targets_measured == 2


def test_too_small_to_measure_setting() -> None:
    frame = lesions({-7: [L("T1", size=30)], 42: [L("T1", status="present")]})
    assert run(frame).timepoints[0].target == R.NE  # blank size = not evaluable (data model)
    too_small = RecistSettings(unmeasured_present_target="too_small")
    assert run(frame, too_small).timepoints[0].target == R.PR  # 5 mm default, not CR
    absent = lesions({-7: [L("T1", size=30)], 42: [L("T1", status="absent")]})
    assert run(absent).timepoints[0].target == R.CR  # absent, no size -> 0


# --- §11.2 overall time-point response -----------------------------------------------------

OVERALL_CASES = [
    # expected, id, target, non-target, new lesion
    (R.PR, "O1", R.CR, R.NE, NewLesion.NO),
    (R.PR, "O2", R.CR, R.NON_CR_NON_PD, NewLesion.NO),
    (R.PR, "O3", R.PR, R.NE, NewLesion.NO),
    (R.NE, "O4", R.NE, R.NON_CR_NON_PD, NewLesion.NO),
    (R.PD, "O5", R.SD, R.NON_CR_NON_PD, NewLesion.YES),
    (R.PD, "O6", R.PR, R.PD, NewLesion.NO),
    (R.NON_CR_NON_PD, "O7 non-target only", None, R.NON_CR_NON_PD, NewLesion.NO),
    (R.CR, "CR, CR", R.CR, R.CR, NewLesion.NO),
    (R.CR, "target CR, no non-target lesions", R.CR, None, NewLesion.NO),
    (R.SD, "SD with non-target NE stays SD", R.SD, R.NE, NewLesion.NO),
    (R.SD, "equivocal new lesion is not PD", R.SD, R.NON_CR_NON_PD, NewLesion.EQUIVOCAL),
    (R.PD, "target NE but new lesion", R.NE, R.NE, NewLesion.YES),
    (R.CR, "non-target only, all gone", None, R.CR, NewLesion.NO),
    (R.NE, "non-target only, not assessed", None, R.NE, NewLesion.NO),
    (R.PD, "non-target only, unequivocal PD", None, R.PD, NewLesion.NO),
]


@pytest.mark.parametrize(("expected", "case", "target", "non_target", "new"), OVERALL_CASES)
def test_overall_response_table(
    expected: Response,
    case: str,
    target: Response | None,
    non_target: Response | None,
    new: NewLesion,
) -> None:
    assert overall_response(target, non_target, new) == expected, case


def test_o8_equivocal_new_lesion_backdated() -> None:
    visits = {
        -7: [L("T1", size=40), L("N1", "non_target", status="present", organ="bone")],
        84: [
            L("T1", size=38),
            L("N1", "non_target", status="present", organ="bone"),
            L("X1", "new", size=4, status="equivocal", organ="liver"),
        ],
        126: [
            L("T1", size=38),
            L("N1", "non_target", status="present", organ="bone"),
            L("X1", "new", size=9, status="present", organ="liver"),
        ],
    }
    result = run(lesions(visits))
    assert [p.overall for p in result.timepoints] == [R.PD]  # d84 re-labelled, d126 after PD
    assert result.progression_date == day(84)
    assert result.assessments_after_progression == 1
    assert "EQUIVOCAL_NEW_LESION_BACKDATED" in {w.code for w in result.warnings}
    ignore = run(lesions(visits), RecistSettings(equivocal_new_lesion="ignore"))
    assert [p.overall for p in ignore.timepoints] == [R.SD, R.PD]  # no back-dating
    assert ignore.progression_date == day(126)
    at_once = run(lesions(visits), RecistSettings(equivocal_new_lesion="progression"))
    assert at_once.progression_date == day(84)
    never = run(lesions({k: v for k, v in visits.items() if k < 100}))
    assert [p.overall for p in never.timepoints] == [R.SD]  # never confirmed: stays SD


# --- §11.3 best overall response on sequences --------------------------------------------

BOR_CASES = [
    # confirmed, unconfirmed, id, sequence
    (R.PR, R.PR, "B1 28 days inclusive", [(42, R.PR), (70, R.PR)]),
    (R.SD, R.PR, "B2 27 days", [(42, R.PR), (69, R.PR), (97, R.PD)]),
    (R.PR, R.PR, "B3 one NE allowed", [(42, R.PR), (70, R.NE), (98, R.PR)]),
    (R.SD, R.PR, "B4 two NE", [(42, R.PR), (70, R.NE), (98, R.NE), (126, R.PR)]),
    (R.PR, R.PR, "B5", [(42, R.PR), (84, R.SD), (126, R.PR), (168, R.PR)]),
    (R.SD, R.PR, "B6", [(42, R.PR), (84, R.SD), (126, R.PD)]),
    (R.PD, R.PR, "B7 PR before SD minimum", [(28, R.PR), (56, R.PD)]),
    (R.PD, R.PD, "B8", [(35, R.SD), (77, R.PD)]),
    (R.NE, R.NE, "B9 death after d35 SD", [(35, R.SD)]),
    (R.CR, R.CR, "B10", [(56, R.CR), (84, R.CR)]),
    (R.SD, R.CR, "B11", [(56, R.CR), (84, R.PD)]),
    (R.SD, R.CR, "B12", [(56, R.CR), (84, R.NE)]),
    (R.NE, R.CR, "B13", [(28, R.CR), (56, R.NE)]),
    (R.NON_CR_NON_PD, R.NON_CR_NON_PD, "B14", [(56, R.NON_CR_NON_PD), (112, R.PD)]),
    (R.CR, R.CR, "B15", [(42, R.PR), (70, R.CR), (98, R.CR)]),
    (
        R.PR,
        R.CR,
        "B16 PR after CR (flagged by the course engine)",
        [(42, R.PR), (70, R.CR), (98, R.PR)],
    ),
    (R.PD, R.PD, "B17", [(14, R.PD)]),
    (R.MISSING, R.MISSING, "B18 no assessment", []),
    (R.NE, R.NE, "SD on day 41: one day short", [(41, R.SD)]),
    (R.SD, R.SD, "SD on day 42: minimum met (inclusive)", [(42, R.SD)]),
    (R.SD, R.SD, "SD on day 43", [(43, R.SD)]),
    (R.PD, R.PD, "SD day 41 then PD: PD beats NE", [(41, R.SD), (83, R.PD)]),
    (R.PR, R.PR, "confirmation 29 days", [(42, R.PR), (71, R.PR)]),
    (
        R.SD,
        R.PR,
        "PR then SD between (accept_sd_between False)",
        [(42, R.PR), (70, R.SD), (98, R.PR)],
    ),
    (R.NE, R.NE, "only NE", [(42, R.NE), (84, R.NE)]),
]


@pytest.mark.parametrize(("confirmed", "unconfirmed", "case", "sequence"), BOR_CASES)
def test_bor_sequences(
    confirmed: Response,
    unconfirmed: Response,
    case: str,
    sequence: list[tuple[int, Response]],
) -> None:
    rules = BorRules()
    assert bor_confirmed(sequence, RECIST_SCALE, rules).response == confirmed, case
    assert bor_unconfirmed(sequence, RECIST_SCALE, rules).response == unconfirmed, case


def test_b4_flags_ne_blocked_confirmation_and_settings_change_it() -> None:
    sequence = [(42, R.PR), (70, R.NE), (98, R.NE), (126, R.PR)]
    assert "confirmation_blocked_by_ne" in bor_confirmed(sequence, RECIST_SCALE, BorRules()).flags
    two_ne = BorRules(max_ne_between=2)
    assert bor_confirmed(sequence, RECIST_SCALE, two_ne).response == R.PR
    sd_ok = BorRules(accept_sd_between=True)
    seq = [(42, R.PR), (70, R.SD), (98, R.PR)]
    assert bor_confirmed(seq, RECIST_SCALE, sd_ok).response == R.PR  # one SD accepted
    assert bor_unconfirmed([(35, R.SD)], RECIST_SCALE, BorRules(sd_min_days=35)).response == R.SD


# --- whole courses -------------------------------------------------------------------------


def test_pd_by_new_lesion_with_shrinking_disease() -> None:
    frame = sums(50, [(42, 30), (84, 20)])
    extra = lesions({84: [L("X1", "new", size=12, status="present", organ="liver")]})
    extra["source_row"] += 100
    result = run(pd.concat([frame, extra], ignore_index=True))
    assert [p.overall for p in result.timepoints] == [R.PR, R.PD]  # -60% but a new lesion
    assert result.timepoints[-1].target == R.PR
    assert (result.bor, result.bor_confirmed) == (R.PR, R.SD)  # unconfirmed PR; d42 >= 42
    assert result.progression_date == day(84)
    assert result.best_pct_change == -60.0  # the PD assessment itself counts


def test_unconfirmed_pr_followed_by_pd() -> None:
    early = run(sums(50, [(28, 30), (56, 62)]), CONFIRM)
    assert (early.bor, early.bor_confirmed, early.best_response) == (R.PR, R.PD, R.PD)
    later = run(sums(50, [(42, 30), (84, 62)]), CONFIRM)
    assert later.bor_confirmed == R.SD  # the PR time point counts as SD (>= day 42)
    assert later.progression_date == day(84)


def test_sd_duration_just_under_and_over() -> None:
    assert run(sums(50, [(41, 45)])).bor == R.NE  # 41 days: SD not yet valid
    assert run(sums(50, [(42, 45)])).bor == R.SD
    assert run(sums(50, [(41, 45)]), RecistSettings(sd_min_days=35)).bor == R.SD


def test_confirmation_window_27_28_days() -> None:
    assert run(sums(50, [(42, 30), (69, 30)]), CONFIRM).bor_confirmed == R.SD  # 27 days
    assert run(sums(50, [(42, 30), (70, 30)]), CONFIRM).bor_confirmed == R.PR  # 28 days
    custom = RecistSettings(confirmation=True, confirmation_min_days=21)
    assert run(sums(50, [(42, 30), (63, 30)]), custom).bor_confirmed == R.PR


def test_progression_stops_the_window_and_best_change() -> None:
    result = run(sums(50, [(42, 40), (84, 70), (126, 10)]))
    assert [p.day for p in result.timepoints] == [42, 84]  # d126 after PD is not used
    assert result.assessments_after_progression == 1
    assert result.best_pct_change == -20.0
    assert result.bor == R.SD


def test_continued_pr_labels_only() -> None:
    result = run(sums(100, [(42, 70), (84, 80), (126, 80)]))
    assert [p.label for p in result.timepoints] == [R.PR, R.PR, R.PR]  # EORTC FAQ example
    assert [p.overall for p in result.timepoints] == [R.PR, R.SD, R.SD]
    literal = run(sums(100, [(42, 70), (84, 80)]), RecistSettings(continued_pr=False))
    assert [p.label for p in literal.timepoints] == [R.PR, R.SD]
    confirmed = run(sums(100, [(42, 70), (84, 80)]), CONFIRM)
    assert confirmed.timepoints[-1].label == R.SD  # PR not yet confirmed: literal label


def test_reappearance_after_cr() -> None:
    frame = lesions({-7: [L("T1", size=20)], 42: [L("T1", size=0)], 84: [L("T1", size=3)]})
    result = run(frame)
    assert [p.overall for p in result.timepoints] == [R.CR, R.PD]  # < 5 mm but after a CR
    assert "REAPPEARANCE_AFTER_CR" in {w.code for w in result.warnings}
    off = run(frame, RecistSettings(reappearance_after_cr_is_pd=False))
    assert [p.overall for p in off.timepoints] == [R.CR, R.PR]  # 3 of 20 is -85%
    assert "WORSE_AFTER_CR" in {w.code for w in off.warnings}
    as_pd = run(frame, RecistSettings(reappearance_after_cr_is_pd=False, pr_after_cr="progression"))
    assert as_pd.timepoints[-1].overall == R.PD


def test_tiny_nodes_growing_stay_cr_with_flag() -> None:
    frame = lesions(
        {
            -7: [L("A", size=16, node=True), L("B", size=16, node=True)],
            42: [L("A", size=3, node=True), L("B", size=3, node=True)],
            84: [L("A", size=9, node=True), L("B", size=9, node=True)],
        }
    )
    result = run(frame)
    assert [p.target for p in result.timepoints] == [R.CR, R.CR]  # 6 -> 18: +200%, +12 mm
    assert "CR_WITH_SOD_INCREASE" in {w.code for w in result.warnings}
    strict = run(frame, RecistSettings(node_cr_with_sod_increase="pd"))
    assert strict.timepoints[-1].target == R.PD


def test_non_target_rules() -> None:
    base = {-7: [L("T1", size=30), L("N1", "non_target", size=12, status="present", node=True)]}
    normal = lesions(
        {**base, 42: [L("T1", size=0), L("N1", "non_target", size=8, node=True, status="present")]}
    )
    assert run(normal).timepoints[0].overall == R.CR  # node < 10 mm is not pathological
    missing = lesions({**base, 42: [L("T1", size=0)]})
    assert run(missing).timepoints[0].overall == R.PR  # CR + non-target NE
    prog = lesions(
        {**base, 42: [L("T1", size=10), L("N1", "non_target", status="progression", node=True)]}
    )
    assert run(prog).timepoints[0].overall == R.PD  # unequivocal, reader-flagged
    equiv = lesions(
        {**base, 42: [L("T1", size=10), L("N1", "non_target", status="equivocal", node=True)]}
    )
    assert run(equiv).timepoints[0].overall == R.PR  # equivocal is not unequivocal PD


def test_non_target_only_course_b14() -> None:
    nt = [L("N1", "non_target", status="present", organ="pleura")]
    frame = lesions(
        {-7: nt, 56: nt, 112: [L("N1", "non_target", status="progression", organ="pleura")]}
    )
    result = run(frame)
    assert (result.bor, result.bor_confirmed) == (R.NON_CR_NON_PD, R.NON_CR_NON_PD)
    assert result.progression_date == day(112)
    assert result.best_pct_change is None  # nothing to measure
    assert "NO_MEASURABLE_DISEASE" in {w.code for w in result.warnings}


def test_b16_pr_after_cr_course_flag() -> None:
    frame = lesions(
        {
            -7: [L("T1", size=30), L("N1", "non_target", status="present", organ="bone")],
            42: [L("T1", size=10), L("N1", "non_target", status="present", organ="bone")],
            70: [L("T1", size=0), L("N1", "non_target", status="absent", organ="bone")],
            98: [L("T1", size=0), L("N1", "non_target", status="present", organ="bone")],
        }
    )
    result = run(frame, CONFIRM)
    assert [p.overall for p in result.timepoints] == [R.PR, R.CR, R.PR]
    assert (result.bor, result.bor_confirmed) == (R.CR, R.PR)
    assert "WORSE_AFTER_CR" in {w.code for w in result.warnings}


# --- baseline -----------------------------------------------------------------------------


def codes(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {w.code for w in result.warnings}


def test_baseline_window_edges() -> None:
    at_28 = lesions({-28: [L("T1", size=30)], 42: [L("T1", size=30)]})
    assert run(at_28).baseline_date == day(-28)
    at_29 = run(lesions({-29: [L("T1", size=30)], 42: [L("T1", size=30)]}))
    assert at_29.bor == R.MISSING  # outside the 28-day window: flagged, not used
    assert "BASELINE_OUTSIDE_WINDOW" in codes(at_29)
    assert at_29.warnings[0].source_rows == (2,)
    on_start = lesions({0: [L("T1", size=30)], 42: [L("T1", size=30)]})
    assert run(on_start).baseline_date == day(0)  # on the start date is baseline
    wide = RecistSettings(baseline_window_days=35)
    assert run(lesions({-29: [L("T1", size=30)], 42: [L("T1", size=30)]}), wide).bor == R.SD


def test_latest_scan_in_window_is_baseline() -> None:
    frame = lesions({-20: [L("T1", size=40)], -3: [L("T1", size=30)], 42: [L("T1", size=21)]})
    result = run(frame)
    assert result.baseline_sod_mm == 30.0
    assert result.bor == R.PR
    assert "PRE_BASELINE_ROWS_IGNORED" in codes(result)


def test_course_end_is_exclusive() -> None:
    frame = sums(50, [(42, 45), (84, 20)])
    assert [p.day for p in run(frame, end=84).timepoints] == [42]
    assert run(frame, end=85).bor == R.PR


def test_no_follow_up_is_missing() -> None:
    result = run(lesions({-7: [L("T1", size=30)]}))
    assert (result.bor, result.bor_confirmed) == (R.MISSING, R.MISSING)  # B18
    assert "NO_FOLLOW_UP" in codes(result)


BASELINE_WARNING_CASES = [
    # expected codes, id, baseline lesions
    (
        set(),
        "5 targets, 2 per organ, all measurable",
        [
            L("A", size=10),
            L("B", size=20),
            L("C", size=20, organ="liver"),
            L("D", size=15, node=True),
            L("E", size=30, organ="liver"),
        ],
    ),
    (
        {"TOO_MANY_TARGETS"},
        "6 targets",
        [
            L("A", size=20),
            L("B", size=20),
            L("C", size=20, organ="liver"),
            L("D", size=20, organ="liver"),
            L("E", size=20, organ="bone"),
            L("F", size=20, organ="adrenal"),
        ],
    ),
    (
        {"TOO_MANY_TARGETS_IN_ORGAN"},
        "3 in lung",
        [L("A", size=20), L("B", size=20), L("C", size=20)],
    ),
    (
        {"TOO_MANY_TARGETS_IN_ORGAN"},
        "3 nodes count as one organ",
        [L("A", size=20, node=True), L("B", size=20, node=True), L("C", size=20, node=True)],
    ),
    ({"NON_MEASURABLE_TARGET"}, "non-nodal 9.9 mm", [L("A", size=9.9)]),
    ({"NON_MEASURABLE_TARGET"}, "node short axis 14.9 mm", [L("A", size=14.9, node=True)]),
    (set(), "node short axis exactly 15 mm", [L("A", size=15, node=True)]),
    ({"BASELINE_TARGET_UNMEASURED", "NO_MEASURABLE_DISEASE"}, "target without size", [L("A")]),
    (
        {"NEW_LESION_AT_BASELINE"},
        "new lesion row at baseline",
        [L("A", size=20), L("X", "new", size=12, status="present")],
    ),
]


@pytest.mark.parametrize(("expected", "case", "baseline"), BASELINE_WARNING_CASES)
def test_baseline_checks(expected: set[str], case: str, baseline: list[L]) -> None:
    result = run(lesions({-7: baseline, 42: baseline}))
    found = codes(result) - {"ROLE_CHANGED", "LESION_NOT_AT_BASELINE"}
    assert found == expected, case


def test_warnings_name_rows_not_patients() -> None:
    frame = lesions({-7: [L("A", size=20), L("B", size=20), L("C", size=9)]}, patient="SECRET-9")
    result = run(frame)
    organ = next(w for w in result.warnings if w.code == "TOO_MANY_TARGETS_IN_ORGAN")
    assert organ.source_rows == (2, 3, 4)
    text = " ".join(w.render() for w in result.warnings)
    assert "SECRET-9" not in text and "2023" not in text
    assert "SECRET-9" in organ.render(show_ids=True)


def test_front_checks_reject_bad_rows() -> None:
    bad = lesions({-7: [L("A", size=-3)], 42: [L("A", size=10), L("A", size=11)]})
    with pytest.raises(DataValidationError) as err:
        run(bad)
    assert {(p.code, p.row) for p in err.value.problems} == {("R1", 2), ("I4", 3), ("I4", 4)}
    two = pd.concat([lesions({-7: [L("A", size=20)]}), lesions({-7: [L("A", size=20)]}, "Q")])
    with pytest.raises(ValueError, match="one patient"):
        run(two)
    with pytest.raises(ValueError, match="lacks columns"):
        run(lesions({-7: [L("A", size=20)]}).drop(columns="status"))
    numbered = run(lesions({-7: [L("A", size=20)]}).drop(columns="source_row"))
    assert numbered.baseline_sod_mm == 20  # rows numbered as a spreadsheet shows them


def test_empty_table_is_missing() -> None:
    empty = lesions({-7: [L("A", size=20)]}).iloc[0:0]
    assert run(empty).bor == R.MISSING


def test_to_frame_view() -> None:
    frame = run(sums(50, [(42, 35), (84, 30)])).to_frame()
    assert list(frame["overall"]) == ["PR", "PR"]
    assert list(frame["pct_change_baseline"]) == [-30.0, -40.0]
    assert list(frame["nadir_mm"]) == [50.0, 35.0]


# --- investigator fall-back ---------------------------------------------------------------


def test_investigator_response_and_reconcile() -> None:
    inv = investigator_response("pr", "2023-06-01")
    assert (inv.bor, inv.source, inv.progression_date) == (
        R.PR,
        "investigator",
        pd.Timestamp("2023-06-01"),
    )
    assert investigator_response(None, None).bor == R.MISSING
    with pytest.raises(ValueError, match="unknown best_response"):
        investigator_response("Partial", None)
    derived = run(sums(50, [(42, 30), (84, 62)]))
    kept, disagreement = reconcile(derived, investigator_response("PR", day(84)))
    assert kept is derived and disagreement is None
    kept, disagreement = reconcile(derived, investigator_response("SD", day(90)))
    assert kept is derived and disagreement is not None
    assert disagreement.fields == ("best_response", "progression_date")
    assert "6 days" in disagreement.message and "2023" not in disagreement.message
    empty = run(lesions({-7: [L("T1", size=30)]}))
    fallback, none = reconcile(empty, inv)
    assert fallback is inv and none is None  # no lesion data -> investigator
    alone, _ = reconcile(None, None)
    assert alone.bor == R.MISSING
