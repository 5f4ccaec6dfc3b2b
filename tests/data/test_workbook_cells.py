"""Typed workbook cells that once crashed the loader are reported as located problems.

Found by fuzzing workbooks whose cells are real dates, numbers and yes/no values: a study
where nobody has a usable death date (pandas 3 only), Excel serials too large to be dates,
and date cells outside what a datetime64[ns] column holds (1677-09-22 to 2262-04-11).
"""

from __future__ import annotations

import datetime as dt
import resource
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from datafactory import VALID, Edits, located, problems_of, write_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rechallenge.data.parse import ParseOptions, excel_serial_to_date
from rechallenge.data.validate import load_study
from rechallenge.errors import RechallengeError

SERIALS_ON = ParseOptions(excel_serial_dates=True)
# -- nobody with a usable death date (pandas 3 could not map through an empty date table) --


def test_a_workbook_where_nobody_has_died_loads(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 1, "death_date"): None})
    study = load_study(path)
    assert study.patients["death_date"].isna().all()


def test_a_folder_where_nobody_has_died_loads(make_study: Callable[..., Path]) -> None:
    study = load_study(make_study(("patients", 1, "death_date", "")))
    assert study.patients["death_date"].isna().all()


def test_the_only_death_date_unreadable_is_reported_alone(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 1, "death_date"): 45123})
    assert located(problems_of(path)) == {("DATE-001", "s.xlsx:patients", 3, "death_date")}


# -- Excel serials too large to be dates (OverflowError under both pandas versions) --


@pytest.mark.parametrize("serial", [10**30, 1e300, 10**10, 3e6, 2_958_466])
def test_a_number_past_the_last_excel_serial_is_not_a_date(tmp_path: Path, serial: float) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): serial})
    problems = problems_of(path, SERIALS_ON)
    assert located(problems) == {("DATE-001", "s.xlsx:patients", 2, "birth_date")}
    assert "larger than any Excel date serial" in problems[0].message
    assert "2958465" in problems[0].message
    assert "YYYY-MM-DD" in problems[0].fix


def test_the_last_serial_follows_the_workbook_date_system(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "s.xlsx", {("patients", 0, "birth_date"): 3_000_000}, date_1904=True
    )
    problems = problems_of(path, SERIALS_ON)
    assert located(problems) == {("DATE-001", "s.xlsx:patients", 2, "birth_date")}
    assert "2957003" in problems[0].message


@pytest.mark.parametrize(
    ("serial", "date_1904", "expected"),
    [
        (2958465, False, dt.date(9999, 12, 31)),  # Excel's last date
        (2958466, False, None),
        (2957003, True, dt.date(9999, 12, 31)),
        (2957004, True, None),
        (1e300, False, None),
    ],
)
def test_serial_conversion_stops_at_excels_last_date(
    serial: float, date_1904: bool, expected: dt.date | None
) -> None:
    assert excel_serial_to_date(serial, date_1904) == expected


def test_a_serial_past_2262_is_implausibly_late(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): 999_999})
    problems = problems_of(path, SERIALS_ON)
    assert located(problems) == {("DATE-004", "s.xlsx:patients", 2, "birth_date")}
    assert "implausibly late" in problems[0].message


def test_a_yes_no_cell_in_a_date_column_is_not_a_serial(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): True})
    problems = problems_of(path, SERIALS_ON)
    assert located(problems) == {("DATE-001", "s.xlsx:patients", 2, "birth_date")}
    assert problems[0].value == "True"


# -- real date cells a datetime64[ns] column cannot hold (crashed under both versions) --


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        (dt.date(1, 1, 1), "implausibly early"),
        (dt.date(1677, 9, 21), "implausibly early"),
        (dt.date(9999, 12, 31), "implausibly late"),
        (dt.date(2262, 4, 12), "implausibly late"),
        (dt.datetime(9999, 12, 31, 13, 30), "implausibly late"),
    ],
)
def test_a_date_cell_outside_the_held_range_is_implausible(
    tmp_path: Path, cell: dt.date, words: str
) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("treatments", 1, "start_date"): cell})
    problems = problems_of(path)
    assert located(problems) == {("DATE-004", "s.xlsx:treatments", 3, "start_date")}
    assert words in problems[0].message
    assert problems[0].value is None  # a date is never shown without --show-ids


def test_date_cells_at_the_edges_of_the_held_range_are_read(tmp_path: Path) -> None:
    edits: Edits = {
        ("patients", 0, "birth_date"): dt.date(1677, 9, 22),
        ("patients", 0, "death_date"): dt.date(2262, 4, 11),
    }
    problems = located(problems_of(write_workbook(tmp_path / "s.xlsx", edits)))
    assert ("DATE-004", "s.xlsx:patients", 2, "birth_date") in problems  # early, yet held
    assert not {p for p in problems if p[3] == "death_date"}  # 2262-04-11 is held


# -- text and imputed dates: pandas 3 must answer as pandas 2 did, imputation never crashes --


@pytest.mark.parametrize("text", ["2300-01-01", "1600-01-01", "9999-12-31"])
def test_iso_text_outside_the_held_range_is_reported(
    make_study: Callable[..., Path], text: str
) -> None:
    problems = problems_of(make_study(("treatments", 0, "last_dose_date", text)))
    assert located(problems) == {("DATE-004", "treatments.csv", 2, "last_dose_date")}


@pytest.mark.parametrize(
    ("text", "code"), [("2020-13", "DATE-002"), ("0000", "DATE-002"), ("9999", "DATE-004")]
)
def test_a_partial_date_that_cannot_be_imputed_is_reported(
    make_study: Callable[..., Path], text: str, code: str
) -> None:
    folder = make_study(("treatments", 0, "last_dose_date", text))
    problems = problems_of(folder, ParseOptions(partial_dates="first"))
    assert located(problems) == {(code, "treatments.csv", 2, "last_dose_date")}


# -- any typed cell anywhere either loads or is reported --


@contextmanager
def address_space_capped(extra_gib: int) -> Iterator[None]:
    """Cap this process's address space while loading one generated workbook.

    A generated cell once drove a loader to 23 GB and the whole run was killed for want
    of memory, which names no example; under the cap the allocation fails with
    MemoryError, so the test fails and hypothesis prints the cell that did it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    cap = in_use + extra_gib * 2**30
    resource.setrlimit(
        resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard)
    )
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


TYPED_CELLS = st.one_of(
    st.sampled_from(
        [
            None, "", " ", "x", "2020-01-01", "9999-12-31", "2020-13", "9999", True, False,
            0, -1, 60, 45123, 45123.5, 999_999, 2_958_466, 10**15, 10**30, -(10**30),
            2**63, 2**64, 1e308, -1e308, 3.7,
            dt.date(2020, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31),
            dt.datetime(2020, 1, 1, 12, 30), dt.datetime(9999, 12, 31, 23, 59), dt.time(10),
        ]
    ),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
TYPED_EDITS = st.dictionaries(
    st.tuples(
        st.sampled_from(sorted(VALID)),
        st.integers(0, 3),
        st.sampled_from(sorted({k for rows in VALID.values() for k in rows[0]})),
    ),
    TYPED_CELLS,
    min_size=1,
    max_size=6,
)
OPTIONS = st.sampled_from(
    [ParseOptions(), ParseOptions("first", True), ParseOptions("last", True, True)]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TYPED_EDITS, OPTIONS)
def test_typed_workbook_cells_never_crash(edits: Edits, options: ParseOptions) -> None:
    kept = {(t, i % len(VALID[t]), c): v for (t, i, c), v in edits.items() if c in VALID[t][0]}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_workbook(Path(tmp) / "s.xlsx", kept)
        try:
            with address_space_capped(extra_gib=4):
                study = load_study(path, options=options)
        except RechallengeError:
            return
    assert len(study.patients) == len(VALID["patients"])  # no row dropped


def test_the_typed_valid_study_loads(tmp_path: Path) -> None:
    study = load_study(write_workbook(tmp_path / "s.xlsx", {}))
    assert len(study.patients) == 2


@pytest.mark.parametrize(
    ("serial", "expected"), [(0, dt.date(1904, 1, 1)), (60, dt.date(1904, 3, 1))]
)
def test_serials_0_and_60_are_real_days_in_a_1904_workbook(
    tmp_path: Path, serial: int, expected: dt.date
) -> None:
    edits: Edits = {("patients", 0, "birth_date"): serial}
    path = write_workbook(tmp_path / "s.xlsx", edits, date_1904=True)
    study = load_study(path, options=SERIALS_ON)
    assert study.patients["birth_date"].iloc[0].date() == expected


def test_serial_60_is_still_refused_in_a_1900_workbook(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "s.xlsx", {("patients", 0, "birth_date"): 60})
    problems = problems_of(path, SERIALS_ON)
    assert located(problems) == {("DATE-001", "s.xlsx:patients", 2, "birth_date")}
    assert "1900-02-29" in problems[0].message
