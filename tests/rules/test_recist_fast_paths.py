"""The faster RECIST paths against the plain formulations they replaced (hypothesis).

`target_response` decides CR in one pass over (value, nodal) pairs and evaluates the PD rule
once; `prepare_course` searches integer day numbers instead of Timestamps;
`lesions_by_patient` derives each patient's date lists for the whole table at once. Each is compared
here with the earlier, direct formulation on generated inputs, so a later change that breaks
the equivalence fails.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from fractions import Fraction

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rechallenge.rules.recist import (
    PatientLesions,
    RecistSettings,
    TargetResult,
    lesions_by_patient,
    patient_lesions,
    prepare_course,
    target_response,
)
from rechallenge.rules.response_common import (
    NODE_NORMAL_BELOW_UM,
    Length,
    Response,
    meets_pd,
    meets_pr,
)


def reference_target_response(
    values: list[Length | None],
    nodal: list[bool],
    baseline_sod: Length,
    nadir_sod: Length,
    options: RecistSettings,
    previous_overall_cr: bool,
) -> TargetResult:
    """`target_response` as first written (separate node and non-node lists)."""
    known = [v for v in values if v is not None]
    sod = sum(known, 0)
    if len(known) < len(values):
        if options.missing_target_rule == "lower_bound_pd" and meets_pd(nadir_sod, sod):
            return TargetResult(Response.PD, sod, False, ("pd_with_missing_targets",))
        return TargetResult(Response.NE, sod, False)
    non_nodal = [v for v, n in zip(known, nodal, strict=True) if not n]
    nodes = [v for v, n in zip(known, nodal, strict=True) if n]
    if all(v == 0 for v in non_nodal) and all(v < NODE_NORMAL_BELOW_UM for v in nodes):
        if nodes and meets_pd(nadir_sod, sod):
            if options.node_cr_with_sod_increase == "pd":
                return TargetResult(Response.PD, sod, True, ("cr_with_sod_increase",))
            return TargetResult(Response.CR, sod, True, ("cr_with_sod_increase",))
        return TargetResult(Response.CR, sod, True)
    if meets_pd(nadir_sod, sod):
        return TargetResult(Response.PD, sod, True)
    if (
        options.reappearance_after_cr_is_pd
        and previous_overall_cr
        and any(v > 0 for v in non_nodal)
    ):
        return TargetResult(Response.PD, sod, True, ("reappearance_after_cr",))
    if meets_pr(baseline_sod, sod):
        return TargetResult(Response.PR, sod, True)
    return TargetResult(Response.SD, sod, True)


# sizes in µm around the 10 mm node and 5 mm PD thresholds, some finer than 1 µm
lengths = st.one_of(
    st.integers(0, 40_000),
    st.sampled_from([0, 9_999, 10_000, 5_000, 15_000]),
    st.fractions(0, 40_000, max_denominator=7),
)
option_sets = st.builds(
    RecistSettings,
    missing_target_rule=st.sampled_from(["lower_bound_pd", "ne"]),
    node_cr_with_sod_increase=st.sampled_from(["cr", "pd"]),
    reappearance_after_cr_is_pd=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.one_of(lengths, st.none()), st.booleans()), min_size=1, max_size=5),
    lengths,
    lengths,
    option_sets,
    st.booleans(),
)
def test_target_response_matches_reference(
    targets: list[tuple[Length | None, bool]],
    baseline: Length,
    nadir: Length,
    options: RecistSettings,
    previous_cr: bool,
) -> None:
    values = [v for v, _ in targets]
    nodal = [n for _, n in targets]
    got = target_response(values, nodal, baseline, nadir, options, previous_overall_cr=previous_cr)
    assert got == reference_target_response(values, nodal, baseline, nadir, options, previous_cr)
    assert isinstance(got.sod, (int, Fraction))


START = pd.Timestamp("2024-03-01")


@st.composite
def lesion_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, int, int | None, int]:
    """A patient's lesion rows on distinct days around a course; roles mixed (new-only days)."""
    days = sorted(draw(st.sets(st.integers(-120, 300), min_size=1, max_size=8)))
    rows = []
    for i, day in enumerate(days):
        role = draw(st.sampled_from(["target", "non_target", "new"]))
        rows.append(
            {
                "patient_id": "P",
                "assessment_date": START + pd.Timedelta(days=day),
                "lesion_id": "T1" if role != "new" else f"N{i}",
                "role": role,
                "organ": "lung",
                "lymph_node": False,
                "size_mm": 20.0 if role == "target" else float("nan"),
                "status": None if role == "target" else "present",
                "source_row": i + 2,
            }
        )
    # course start and end often on an assessment day: the boundaries are where searches differ
    start = draw(st.one_of(st.sampled_from(days), st.integers(-60, 120)))
    end = draw(st.one_of(st.none(), st.sampled_from(days), st.integers(start + 1, 400)))
    window = draw(st.sampled_from([0, 28, 60, days[-1] - days[0]]))
    return pd.DataFrame(rows), start, end, window


@settings(max_examples=200, deadline=None)
@given(lesion_tables())
def test_prepare_course_windows_match_timestamp_searches(
    drawn: tuple[pd.DataFrame, int, int | None, int],
) -> None:
    table, start_day, end_day, window = drawn
    data = patient_lesions(table)
    start = START + pd.Timedelta(days=start_day)
    end = None if end_day is None else START + pd.Timedelta(days=end_day)
    options = RecistSettings(baseline_window_days=window)
    course = prepare_course(data, start, end, options)
    # the same searches on Timestamps, as first written
    dates, disease = data.dates, data.disease_dates
    earliest = start - pd.Timedelta(days=window)
    candidates = disease[bisect_left(disease, earliest) : bisect_right(disease, start)]
    assert course.baseline_date == (candidates[-1] if candidates else None)
    if not candidates:
        return
    stop = len(dates) if end is None else bisect_left(dates, end)
    expected = [(d, (d - start).days) for d in dates[bisect_right(dates, start) : stop]]
    assert [(a.date, a.day) for a in course.followups] == expected
    next_baseline = None
    if end is not None:
        before_end = disease[: bisect_left(disease, end)]
        last = before_end[-1] if before_end else None
        if last is not None and last > start and (end - last).days <= window:
            next_baseline = last
    assert course.next_baseline == next_baseline


@st.composite
def many_patients(draw: st.DrawFn) -> pd.DataFrame:
    """Lesion rows of 1-4 patients, rows shuffled, several lesions per date, source rows mixed."""
    rows = []
    for p in range(draw(st.integers(1, 4))):
        for day in draw(st.sets(st.integers(-50, 200), min_size=1, max_size=5)):
            for k in range(draw(st.integers(1, 3))):
                role = draw(st.sampled_from(["target", "non_target", "new"]))
                rows.append(
                    {
                        "patient_id": f"P{p}",
                        "assessment_date": START + pd.Timedelta(days=day),
                        "lesion_id": f"L{k}",
                        "role": role,
                        "organ": "lung",
                        "lymph_node": draw(st.booleans()),
                        "size_mm": float(draw(st.integers(0, 40))),
                        "status": None,
                    }
                )
    order = draw(st.permutations(range(len(rows))))
    table = pd.DataFrame([rows[i] for i in order])
    source = draw(st.permutations(range(2, len(rows) + 2)))
    return table.assign(source_row=list(source))


@settings(max_examples=100, deadline=None)
@given(many_patients())
def test_grouping_column_wise_matches_per_patient_derivation(table: pd.DataFrame) -> None:
    grouped = lesions_by_patient(table)
    assert sorted(grouped) == sorted(table["patient_id"].unique())
    for pid, data in grouped.items():
        plain = PatientLesions(pid, data.by_date)  # the lists derived row by row
        assert data.dates == plain.dates == sorted(data.by_date)
        assert data.disease_dates == plain.disease_dates
        assert data.days == plain.days
        assert data.disease_days == plain.disease_days
        assert data.date_rows == plain.date_rows
