"""Property-based tests of the RECIST 1.1 engine (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rechallenge.rules.recist import RecistSettings
from rechallenge.rules.response import evaluate_course
from rechallenge.rules.response_common import CourseResponse, Response

START = pd.Timestamp("2024-01-15")
NT_STATUSES = ["present", "absent", "equivocal", None]

# A course: 1-3 non-nodal targets (integer baseline sizes), 1-5 follow-ups 21-70 days apart,
# each target measured (integer mm) or blank, one non-target lesion with a random status.
sizes = st.integers(min_value=0, max_value=80)


@st.composite
def courses(draw: st.DrawFn) -> dict[str, object]:
    n_targets = draw(st.integers(1, 3))
    baseline = [draw(st.integers(10, 60)) for _ in range(n_targets)]
    n_visits = draw(st.integers(1, 5))
    days, day = [], 0
    for _ in range(n_visits):
        day += draw(st.integers(21, 70))
        days.append(day)
    visits = [
        (
            d,
            [
                draw(st.one_of(sizes, st.none()) if draw(st.integers(0, 9)) == 0 else sizes)
                for _ in range(n_targets)
            ],
            draw(st.sampled_from(NT_STATUSES)),
        )
        for d in days
    ]
    return {"baseline": baseline, "visits": visits}


def frame(course: dict[str, object], scale: int = 1, new_at: int | None = None) -> pd.DataFrame:
    """The lesions table of a drawn course, every size multiplied by `scale`."""
    rows: list[dict[str, object]] = []

    def add(day: int, lesion_id: str, role: str, size: float | None, status: str | None) -> None:
        rows.append(
            {
                "patient_id": "P",
                "assessment_date": START + pd.Timedelta(days=day),
                "lesion_id": lesion_id,
                "role": role,
                "organ": "liver" if lesion_id == "T2" else "lung",
                "lymph_node": False,
                "size_mm": float("nan") if size is None else float(size * scale),
                "status": status,
                "source_row": len(rows) + 2,
            }
        )

    baseline: list[int] = course["baseline"]  # type: ignore[assignment]
    for i, size in enumerate(baseline):
        add(-7, f"T{i}", "target", size, None)
    add(-7, "N1", "non_target", None, "present")
    visits: list[tuple[int, list[int | None], str | None]] = course["visits"]  # type: ignore[assignment]
    for k, (day, values, status) in enumerate(visits):
        for i, size in enumerate(values):
            add(day, f"T{i}", "target", size, None)
        add(day, "N1", "non_target", None, status)
        if new_at == k:
            add(day, "X1", "new", 12, "present")
    return pd.DataFrame(rows)


def evaluate(df: pd.DataFrame, settings_: RecistSettings) -> CourseResponse:
    return evaluate_course(df, START, None, settings_)


def five_mm_bound(result: CourseResponse) -> bool:
    """Some counted assessment meets the +20 % condition versus the nadir but not +5 mm."""
    for p in result.timepoints:
        if p.sod_mm is None or p.nadir_mm is None:
            continue
        increase = Fraction(p.sod_mm) - Fraction(p.nadir_mm)
        if 5 * increase >= Fraction(p.nadir_mm) and increase < 5:
            return True
    return False


SETTINGS = [RecistSettings(), RecistSettings(confirmation=True)]


@settings(max_examples=200, deadline=None)
@given(courses(), st.integers(min_value=1, max_value=6), st.sampled_from(SETTINGS))
def test_scaling_up_keeps_every_response(
    course: dict[str, object], k: int, settings_: RecistSettings
) -> None:
    """Multiplying every size by an integer k >= 1 leaves every response unchanged, provided
    the targets are non-nodal and no counted assessment is decided by the 5 mm rule.

    Why exactly this: the relative thresholds (-30 % vs baseline, +20 % vs nadir) are ratios,
    so they are scale-free, and exact arithmetic keeps them so at the boundary (integers times
    an integer stay exact). Two RECIST rules use absolute millimetres: (1) PD also needs +5 mm:
    an increase that is >= 20 % but < 5 mm is SD at scale 1 and may be PD at scale k (and only
    in that direction for k >= 1, since k·d >= d); (2) a target node is normal below 10 mm,
    so scaling moves nodes across the CR threshold; measurability (10/15 mm) only produces
    warnings. Zero stays zero, so CR of non-nodal targets and reappearance after CR are
    scale-free. Hence: no nodes, and skip draws where (1) binds at scale 1.
    """
    base = evaluate(frame(course), settings_)
    assume(not five_mm_bound(base))
    scaled = evaluate(frame(course, scale=k), settings_)
    assert [p.overall for p in scaled.timepoints] == [p.overall for p in base.timepoints]
    assert [p.label for p in scaled.timepoints] == [p.label for p in base.timepoints]
    assert (scaled.bor, scaled.bor_confirmed) == (base.bor, base.bor_confirmed)
    assert scaled.progression_date == base.progression_date
    assert scaled.best_pct_change == base.best_pct_change


BENEFIT = {
    Response.CR: 4,
    Response.PR: 3,
    Response.SD: 2,
    Response.NON_CR_NON_PD: 1,
    Response.PD: 0,
    Response.NE: 0,
    Response.MISSING: 0,
}


@settings(max_examples=200, deadline=None)
@given(courses(), st.integers(0, 4), st.sampled_from(SETTINGS))
def test_new_lesion_never_improves(
    course: dict[str, object], at: int, settings_: RecistSettings
) -> None:
    """Adding an unequivocal new lesion at one assessment never improves any response.

    "Improve" is measured by clinical benefit CR > PR > SD > NON-CR/NON-PD > {PD, NE}: PD and
    NE rank together because the BOR order puts PD above NE (a certain progression is "better
    known" than nothing), so a course of only NE assessments becomes PD. The time point with
    the lesion becomes PD, earlier ones do not change, later ones drop out of the window, and
    progression can only come earlier.
    """
    visits: list[object] = course["visits"]  # type: ignore[assignment]
    assume(at < len(visits))
    before = evaluate(frame(course), settings_)
    after = evaluate(frame(course, new_at=at), settings_)
    assert BENEFIT[after.bor] <= BENEFIT[before.bor]
    assert BENEFIT[after.bor_confirmed] <= BENEFIT[before.bor_confirmed]
    assert after.progression_date is not None
    if before.progression_date is not None:
        assert after.progression_date <= before.progression_date
    for p, q in zip(before.timepoints, after.timepoints, strict=False):
        assert q.overall in (p.overall, Response.PD)
