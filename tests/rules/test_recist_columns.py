"""The column-wise RECIST engine gives the per-course engine's results, object for object.

`evaluate_plain_courses` evaluates the plain courses of a whole table at once and leaves the
patients with anything unusual to `evaluate_recist_course`. Here random lesion histories,
made to hit the edge cases (thresholds met exactly, nodes shrinking below 10 mm, blank
sizes, absent and progressing lesions, new lesions, role changes, baselines outside the
window, equivocal new lesions, sizes finer than 1 µm), are evaluated both ways under several
settings: every course the column-wise engine returns must equal the per-course result, and
every course of a patient it does not leave to the engine must be among them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rechallenge.config import StudyConfig
from rechallenge.data.validate import load_study
from rechallenge.derive.patients import _derive_patient_facts
from rechallenge.rules.recist import RecistSettings, evaluate_recist_course, patient_lesions
from rechallenge.rules.recist_columns import evaluate_plain_courses

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
ORGANS = ("lung", "liver", "adrenal", "bone", "brain")
NON_TARGET_STATUS = ("present", "present", "absent", "progression", None)
FACTORS = (0.0, 0.2, 0.5, 0.7, 0.71, 0.85, 1.0, 1.0, 1.19, 1.2, 1.25, 1.5, 2.0)


def _history(rng: np.random.Generator, pid: str, day0: int) -> tuple[list[dict], list[dict]]:
    """One patient's lesion rows over two courses, and the two courses."""
    rows: list[dict] = []
    n_lesions = int(rng.integers(1, 6))
    lesions = []
    for k in range(n_lesions):
        nodal = rng.random() < 0.3
        role = "target" if rng.random() < 0.7 else "non_target"
        low = 15 if nodal else 10
        size = round(float(rng.uniform(low - 1, 60)), 1 if rng.random() < 0.9 else 0)
        if rng.random() < 0.02:
            size += 0.0004  # finer than 1 µm: an exact fraction
        organ = "lymph_node" if nodal else ORGANS[k % 5 if rng.random() < 0.9 else 0]
        lesions.append((f"L{k}", role, organ, nodal, size))
    starts = [day0 + int(rng.integers(0, 31)), None]
    n_follow = int(rng.integers(0, 8))
    days = [day0] + [day0 + 35 + 42 * i + int(rng.integers(-3, 4)) for i in range(n_follow)]
    if n_follow >= 3 and rng.random() < 0.6:
        second_baseline = days[int(rng.integers(2, len(days)))] + 30
        days = sorted({*days, second_baseline})
        starts[1] = second_baseline + int(rng.integers(0, 7))
    factor = 1.0
    for i, day in enumerate(days):
        if i:
            factor = float(rng.choice(FACTORS))
        for lesion_id, role, organ, nodal, size in lesions:
            if i and rng.random() < 0.03:
                continue  # not assessed
            current = round(size * factor, 1)
            status = None
            value: float | None = current
            u = rng.random()
            if role == "non_target":
                value = None if u < 0.7 else current
                status = NON_TARGET_STATUS[int(rng.integers(len(NON_TARGET_STATUS)))]
            elif u < 0.05:
                value, status = None, str(rng.choice(["absent", "present"]))
            elif u < 0.08:
                value = None
            if i and rng.random() < 0.003:
                role = "non_target" if role == "target" else "target"  # a role change
            rows.append(_row(pid, day, lesion_id, role, organ, nodal, value, status))
        if i and rng.random() < 0.12:
            status = "equivocal" if rng.random() < 0.15 else str(rng.choice(["present", "absent"]))
            rows.append(_row(pid, day, f"N{i}", "new", "liver", False, None, status))
    courses = [
        {"patient_id": pid, "course": "initial", "start": starts[0], "end": starts[1]},
        {"patient_id": pid, "course": "rechallenge", "start": starts[1], "end": None},
    ]
    return rows, courses


def _row(pid, day, lesion_id, role, organ, nodal, size, status) -> dict:
    return {
        "patient_id": pid,
        "assessment_date": pd.Timestamp("2018-01-01") + pd.Timedelta(days=day),
        "lesion_id": lesion_id,
        "role": role,
        "organ": organ,
        "lymph_node": nodal,
        "size_mm": size,
        "status": status,
    }


def _cohort(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    courses: list[dict] = []
    for p in range(n):
        r, c = _history(rng, f"P{p:04d}", int(rng.integers(0, 400)))
        rows += r
        courses += c
    lesions = pd.DataFrame(rows)
    lesions["source_row"] = np.arange(2, len(lesions) + 2)
    table = pd.DataFrame(courses)
    for column in ("start", "end"):
        table[column] = pd.to_datetime(
            [
                None if pd.isna(v) else pd.Timestamp("2018-01-01") + pd.Timedelta(days=int(v))
                for v in table[column]
            ]
        )
    return lesions, table


SETTINGS = [
    RecistSettings(),
    RecistSettings(confirmation=True, accept_sd_between=True),
    RecistSettings(missing_target_rule="ne", unmeasured_present_target="too_small"),
    RecistSettings(
        reappearance_after_cr_is_pd=False, continued_pr=False, pr_after_cr="progression"
    ),
    RecistSettings(baseline_window_days=14, sd_min_days=56, node_cr_with_sod_increase="pd"),
]


@pytest.mark.parametrize("index", range(len(SETTINGS)))
def test_plain_courses_equal_the_per_course_engine(index: int) -> None:
    settings = SETTINGS[index]
    lesions, courses = _cohort(seed=100 + index, n=600)
    plain = evaluate_plain_courses(lesions, courses, settings)
    with_rows = set(lesions["patient_id"])
    for record in courses.itertuples(index=False):
        key = (record.patient_id, record.course)
        if pd.isna(record.start) or record.patient_id not in with_rows:
            assert key not in plain.responses
            continue
        if record.patient_id in plain.unusual:
            assert key not in plain.responses
            continue
        rows = lesions[lesions["patient_id"] == record.patient_id]
        end = None if pd.isna(record.end) else record.end
        expected = evaluate_recist_course(patient_lesions(rows), record.start, end, settings)
        assert plain.responses[key] == expected, key
        assert repr(plain.responses[key]) == repr(expected), key  # same types: 3, not 3.0
        assert expected.warnings == ()
    # both kinds are exercised: most courses plain, a good share left to the engine
    assert len(plain.responses) > 100
    assert 40 < len(plain.unusual) < 570


def test_irecist_leaves_every_patient_to_the_engine() -> None:
    lesions, courses = _cohort(seed=1, n=20)
    plain = evaluate_plain_courses(lesions, courses, RecistSettings(criterion="irecist"))
    assert plain.responses == {}
    assert plain.unusual == frozenset(lesions["patient_id"])


def test_example_cohort_facts_are_the_same_both_ways() -> None:
    study = load_study(EXAMPLE)
    config = StudyConfig()
    columnwise = _derive_patient_facts(study, config, columnwise=True)
    per_course = _derive_patient_facts(study, config, columnwise=False)
    assert columnwise.responses == per_course.responses
    assert columnwise.warnings == per_course.warnings
    pd.testing.assert_frame_equal(columnwise.table, per_course.table)


def test_no_plain_course_at_all() -> None:
    lesions, courses = _cohort(seed=3, n=5)
    equivocal = (
        lesions.groupby("patient_id")
        .tail(1)
        .assign(lesion_id="EQ", role="new", status="equivocal", size_mm=None)
    )
    lesions = pd.concat([lesions, equivocal], ignore_index=True)
    lesions["source_row"] = np.arange(2, len(lesions) + 2)
    plain = evaluate_plain_courses(lesions, courses, RecistSettings())
    assert plain.responses == {}
    assert plain.unusual == frozenset(lesions["patient_id"])
