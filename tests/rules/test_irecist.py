"""iRECIST engine: shared/reference/irecist.md §4 (paper Table 3, E1-E8) and §6 (I1-I9), plus
new-lesion bookkeeping and the settings. Days count from the first dose; baseline on day -7
with one lung target whose size is the target sum (50 mm unless stated)."""

from __future__ import annotations

import pandas as pd
import pytest

from rechallenge.rules.irecist import irecist_bor, relabel_confirmed
from rechallenge.rules.recist import RecistSettings
from rechallenge.rules.response import evaluate_course
from rechallenge.rules.response_common import CourseResponse, Response

START = pd.Timestamp("2022-09-05")
R = Response
IREC = RecistSettings(criterion="irecist")
IREC_CONFIRM = RecistSettings(criterion="irecist", confirmation=True)

# Visit: (day, target sum or None, {lesion id: (role, size, status)} for other lesions)
Extra = dict[str, tuple[str, float | None, str | None]]


def course(
    visits: list[tuple[int, float | None, Extra]],
    baseline: float = 50,
    baseline_extra: Extra | None = None,
) -> pd.DataFrame:
    rows: list[dict[str, object]] = []

    def add(day: int, lesion_id: str, role: str, size: float | None, status: str | None) -> None:
        rows.append(
            {
                "patient_id": "P-7",
                "assessment_date": START + pd.Timedelta(days=day),
                "lesion_id": lesion_id,
                "role": role,
                "organ": "lung" if lesion_id == "T1" else "liver",
                "lymph_node": False,
                "size_mm": float("nan") if size is None else size,
                "status": status,
                "source_row": len(rows) + 2,
            }
        )

    add(-7, "T1", "target", baseline, None)
    for lesion_id, (role, size, status) in (baseline_extra or {}).items():
        add(-7, lesion_id, role, size, status)
    for day, sod, extra in visits:
        add(day, "T1", "target", sod, None)
        for lesion_id, (role, size, status) in extra.items():
            add(day, lesion_id, role, size, status)
    return pd.DataFrame(rows)


def run(frame: pd.DataFrame, settings: RecistSettings = IREC) -> CourseResponse:
    return evaluate_course(frame, START, None, settings)


def day(n: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=n)


def labels(result: CourseResponse) -> list[Response]:
    return [p.label for p in result.timepoints]


NL: Extra = {"X1": ("new", None, "present")}  # a new non-measurable lesion, unchanged
NT: Extra = {"N1": ("non_target", None, "present")}

# --- paper Table 3 (iBOR of time-point sequences, no confirmation) -------------------------

DAYS = (42, 84, 126, 168, 210)
TABLE3 = [
    # iBOR, id, TPR1..TPR5
    (R.ICR, "E1", [R.ICR, R.IPR, R.NE, R.IUPD, R.ICPD]),
    (R.ICR, "E1 iUPD in TPR2", [R.ICR, R.IUPD, R.IUPD, R.IUPD, R.ICPD]),
    (R.ICR, "E2", [R.IUPD, R.IPR, R.ICR, R.IUPD, R.ISD]),
    (R.ICR, "E2 NE then iCR", [R.IUPD, R.NE, R.ICR, R.NE, R.ICPD]),
    (R.IPR, "E3", [R.IUPD, R.IPR, R.ISD, R.IUPD, R.ICPD]),
    (R.IPR, "E4", [R.IUPD, R.NE, R.IPR, R.ISD, R.IUPD]),
    (R.IPR, "E4 iSD then iPR", [R.IUPD, R.ISD, R.IPR, R.IUPD, R.ICPD]),
    (R.ISD, "E5", [R.IUPD, R.ISD, R.ISD, R.IUPD, R.ICPD]),
    (R.ICPD, "E6 later iCR does not count", [R.IUPD, R.ICPD, R.IPR, R.ICR, R.ISD]),
    (R.ICPD, "E7", [R.IUPD, R.IUPD, R.ICPD, R.ICR, R.ICR]),
    (R.IUPD, "E8 never confirmed", [R.IUPD, R.NE, R.NE, R.NE, R.NE]),
]


@pytest.mark.parametrize(("expected", "case", "tprs"), TABLE3)
def test_paper_table3(expected: Response, case: str, tprs: list[Response]) -> None:
    result = irecist_bor(list(zip(DAYS, tprs, strict=True)), IREC, confirmation=False)
    assert result.response == expected, case


def test_corner_case_reset_then_confirmed() -> None:
    # iSD on day 35 falls before the SD minimum: iUPD (first, reset) beats iCPD in the order
    sequence = [(28, R.IUPD), (35, R.ISD), (84, R.IUPD), (126, R.ICPD)]
    assert irecist_bor(sequence, IREC).response == R.IUPD
    relabelled, first = relabel_confirmed([t for _, t in sequence])
    assert relabelled == [R.IUPD, R.ISD, R.ICPD, R.ICPD] and first == 2


# --- §6 test vectors (courses) -------------------------------------------------------------

COURSES = [
    # labels, iBOR (no confirmation), iBOR (confirmation), progression day, id, visits
    ([R.IUPD, R.ICPD], R.ICPD, R.ICPD, 56, "I1 +5 mm confirms", [(56, 62, {}), (98, 67, {})]),
    (
        [R.IUPD, R.IUPD, R.ICPD],
        R.ICPD,
        R.ICPD,
        56,
        "I2 +4 then +2: cumulative",
        [(56, 62, {}), (98, 66, {}), (140, 68, {})],
    ),
    (
        [R.IUPD, R.IPR, R.IPR],
        R.IPR,
        R.IPR,
        None,
        "I3 shrinkage after new lesion: reset",
        [(56, 40, NL), (98, 30, NL), (140, 30, NL)],
    ),
    (
        [R.IPR, R.IUPD, R.IUPD, R.ICPD],
        R.IPR,
        R.ISD,
        98,
        "I4 scenario F: unchanged stays iUPD",
        [
            (56, 30, {}),
            (98, 30, NL),
            (140, 30, NL),
            (182, 30, {"X1": ("new", None, "progression")}),
        ],
    ),
    (
        [R.IUPD, R.IUPD, R.ICPD],
        R.ICPD,
        R.ICPD,
        56,
        "I6 day-70 scan < 4 weeks is ignored",
        [(56, 62, {}), (70, 68, {}), (98, 67, {})],
    ),
    (
        [R.IUPD, R.ISD, R.IUPD, R.ICPD],
        R.ISD,
        R.ISD,
        140,
        "I8 reset, new nadir 45",
        [(56, 62, {}), (98, 45, {}), (140, 56, {}), (182, 61, {})],
    ),
    (
        [R.IUPD, R.ICPD],
        R.ICPD,
        R.ICPD,
        56,
        "I9 +1 mm but an additional new lesion",
        [(56, 62, {}), (98, 63, NL)],
    ),
    (
        [R.IUPD, R.ICPD],
        R.ICPD,
        R.ICPD,
        56,
        "+4.9 mm does not confirm; new category does",
        [(56, 62, {}), (98, 66.9, {"N1": ("non_target", None, "progression")})],
    ),
    (
        [R.IUPD, R.IUPD],
        R.IUPD,
        R.IUPD,
        56,
        "+4.9 mm alone: still iUPD",
        [(56, 62, {}), (98, 66.9, {})],
    ),
]


@pytest.mark.parametrize(("tprs", "bor", "bor_conf", "prog", "case", "visits"), COURSES)
def test_irecist_courses(
    tprs: list[Response],
    bor: Response,
    bor_conf: Response,
    prog: int | None,
    case: str,
    visits: list[tuple[int, float | None, Extra]],
) -> None:
    nt_visits = [(d, s, {**NT, **e}) for d, s, e in visits]
    result = run(course(nt_visits, baseline_extra=NT))
    assert labels(result) == tprs, case
    assert (result.bor, result.bor_confirmed) == (bor, bor_conf), case
    assert result.progression_date == (None if prog is None else day(prog)), case
    assert result.source == "irecist"


def test_i5_non_target_confirmed_by_any_increase() -> None:
    visits = [
        (56, 50, {"N1": ("non_target", None, "progression")}),
        (98, 50, {"N1": ("non_target", None, "equivocal")}),  # slightly larger, not unequivocal
    ]
    result = run(course(visits, baseline_extra=NT))
    assert labels(result) == [R.IUPD, R.ICPD]
    assert result.progression_date == day(56)
    no_change = [visits[0], (98, 50, {"N1": ("non_target", None, "present")})]
    reset = run(course(no_change, baseline_extra=NT))
    assert labels(reset) == [R.IUPD, R.ISD]  # no longer marked progressing: reset


def test_i7_unconfirmed_iupd_event_or_censor() -> None:
    frame = course([(56, 62, {})])
    result = run(frame)
    assert (labels(result), result.bor) == ([R.IUPD], R.IUPD)  # Table 3 E8
    assert result.progression_date == day(56)  # convention, flagged
    assert "UNCONFIRMED_IUPD" in {w.code for w in result.warnings}
    censored = run(frame, RecistSettings(criterion="irecist", irecist_unconfirmed_iupd="censor"))
    assert censored.progression_date is None


def test_early_scan_with_new_lesion_confirms() -> None:
    visits = [(56, 62, {}), (70, 62, NL), (98, 62, NL)]
    result = run(course(visits))
    assert labels(result) == [R.IUPD, R.ICPD]  # FAQ: scan for symptoms with a new lesion
    off = run(
        course(visits), RecistSettings(criterion="irecist", irecist_early_new_lesion_confirms=False)
    )
    assert labels(off) == [R.IUPD, R.IUPD, R.ICPD]  # d70 ignored, the lesion confirms on d98


def test_late_confirmation_is_used_and_flagged() -> None:
    result = run(course([(56, 62, {}), (126, 67, {})]))  # 70 days after the iUPD
    assert labels(result) == [R.IUPD, R.ICPD]
    assert "CONFIRMATION_LATE" in {w.code for w in result.warnings}
    tolerance = run(course([(56, 62, {}), (82, 67, {})]))  # 26 days: within the 2-day tolerance
    assert labels(tolerance) == [R.IUPD, R.ICPD]
    too_early = run(course([(56, 62, {}), (81, 67, {})]))  # 25 days: ignored
    assert labels(too_early) == [R.IUPD, R.IUPD]


def test_new_lesion_targets_and_their_sum() -> None:
    def x1(size: float) -> Extra:
        return {"X1": ("new", size, "present")}

    grow = run(course([(56, 45, x1(20)), (98, 45, x1(24)), (140, 45, x1(26))]))
    assert labels(grow) == [R.IUPD, R.IUPD, R.ICPD]  # NL-SOM +4 then +6 cumulative
    assert [p.new_lesion_sum_mm for p in grow.timepoints] == [20.0, 24.0, 26.0]
    shrink = run(course([(56, 45, x1(20)), (98, 45, x1(12)), (140, 45, x1(17)), (182, 45, x1(18))]))
    # new lesion regressed: reset to iSD; then +5 mm and +42% vs its own nadir 12: iUPD again
    assert labels(shrink) == [R.IUPD, R.ISD, R.IUPD, R.IUPD]
    small = run(course([(56, 45, x1(8))]))
    assert small.timepoints[0].new_lesion_sum_mm == 0.0  # 8 mm is not measurable: NLNT


def test_new_lesion_target_limits() -> None:
    many: Extra = {f"X{i}": ("new", 20.0 + i, "present") for i in range(3)}  # 3 in the liver
    organs = run(course([(56, 45, many)]))
    assert organs.timepoints[0].new_lesion_sum_mm == 43.0  # 2 largest per organ: 22 + 21


def test_icr_needs_new_lesions_gone() -> None:
    gone = {"X1": ("new", None, "absent")}
    result = run(course([(56, 40, NL), (98, 0, NL), (140, 0, gone)]))
    assert labels(result) == [R.IUPD, R.IPR, R.ICR]  # new lesion still there on day 98


def test_confirmation_of_ipr_and_criterion_routing() -> None:
    result = run(course([(56, 30, {}), (84, 30, {})]), IREC_CONFIRM)
    assert (result.bor, result.bor_confirmed, result.best_response) == (R.IPR, R.IPR, R.IPR)
    recist = evaluate_course(course([(56, 62, {}), (98, 40, {})]), START, None, RecistSettings())
    assert recist.bor == R.PD and recist.source == "recist"  # RECIST 1.1: first PD is final
    irecist = run(course([(56, 62, {}), (98, 40, {})]))
    assert irecist.bor == R.ISD and irecist.progression_date is None  # reset, no event
