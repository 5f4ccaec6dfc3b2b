"""Text columns are judged once per distinct value; the answers match judging every cell.

CSV columns hold only strings, so the parsers evaluate each rule once per distinct string
and spread the answer back over the rows, and a table that cannot fail the schema skips
pandera. Both shortcuts must give the very tables and problems (codes, messages, rows,
order) of the cell-by-cell path, which workbooks with typed cells still take.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from datafactory import VALID, copy_tables, write_study
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rechallenge.data import parse, validate
from rechallenge.data.parse import E_NOTATION, E_NOTATION_HINT, INVISIBLE, ParseOptions
from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError

NASTY = (
    "", " ", "\t", "\u00a0", "a\u200bb", "x\ufeff", "1e5", " 1E5 ", "2e+03", "2021", "2021-02",
    "2020-02-30", "03/04/2021", "45123", "45123.5", "60", "0", "-1", "1,5", "<5", ">=3", "abc",
    "1e400", "inf", "nan", "NA", " yes ", "YES", "maybe", "TRUE", "1", "Target", " target",
    "small cell", "lung; bone", "lung;;xyz", ";", "pembrolizumab; foo", "Keytruda", "pembrolizmab",
    "99999999999999999999999", "18446744073709551615", "9007199254740993", "2.5", "3.0", "6",
    "1900-01-01", "2030-01-01", "P-001", "P-003", " P-002", "g / dl", "µmol/L", "μmol/L",
    "Hemoglobin", "Squamous", "iva", "2020-1-1", " 2020-03-01 ", "1.5e2", "+3",
)  # fmt: skip
COLUMNS = sorted({k for rows in VALID.values() for k in rows[0]})
EDITS = st.lists(
    st.tuples(
        st.sampled_from(sorted(VALID)),
        st.lists(st.integers(0, 3), min_size=1, max_size=3),  # one value on several rows
        st.sampled_from(COLUMNS),
        st.one_of(st.sampled_from(NASTY), st.text(max_size=8)),
    ),
    min_size=1,
    max_size=8,
)
OPTIONS = st.sampled_from(
    [ParseOptions(), ParseOptions("first", True), ParseOptions("last", False, True)]
)


@contextmanager
def cell_by_cell() -> Iterator[None]:
    """Parse every column cell by cell and always run the pandera schema."""
    with (
        mock.patch.object(parse, "distinct_text", lambda values: None),
        mock.patch.object(validate, "_schema_cannot_fail", lambda frame, spec: False),
    ):
        yield


def outcome(folder: Path, options: ParseOptions) -> dict[str, object]:
    """Everything a load gives back, in a form that compares strictly."""
    try:
        study = load_study(folder, options=options)
    except DataValidationError as error:
        return {"problems": [(p, p.patient_id, repr(p.value)) for p in error.problems]}
    tables: dict[str, object] = {
        name: study.table(name)
        for name in ("patients", "treatments", "lesions", "adverse_events", "labs")
    }
    tables["warnings"] = list(study.warnings)
    tables["imputations"] = list(study.imputations)
    return tables


def assert_same(fast: dict[str, object], slow: dict[str, object]) -> None:
    assert fast.keys() == slow.keys()
    for key, value in fast.items():
        if isinstance(value, pd.DataFrame):
            other = slow[key]
            assert isinstance(other, pd.DataFrame)
            pd.testing.assert_frame_equal(value, other, check_exact=True)
            for column in value.columns:
                assert list(map(repr, value[column])) == list(map(repr, other[column])), column
        else:
            assert value == slow[key]


def both_paths(tables: dict[str, list[dict[str, str]]], options: ParseOptions) -> dict[str, object]:
    """Load `tables` by distinct values and cell by cell; assert the same outcome; return it."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_study(Path(tmp) / "s", tables)
        fast = outcome(folder, options)
        with cell_by_cell():
            slow = outcome(folder, options)
    assert_same(fast, slow)
    return fast


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS, OPTIONS)
def test_distinct_values_and_cell_by_cell_agree(
    edits: list[tuple[str, list[int], str, str]], options: ParseOptions
) -> None:
    tables = copy_tables()
    for table, indices, column, value in edits:
        rows = tables[table]
        for index in indices:
            if column in rows[index % len(rows)]:
                rows[index % len(rows)][column] = value.replace("\x00", "")
    both_paths(tables, options)


def test_every_row_of_a_repeated_bad_value_is_named() -> None:
    tables = copy_tables()
    for row in tables["lesions"]:
        row.update(lesion_id="T\u00a01", lymph_node="maybe", size_mm="1,5", role=" target")
    for row in tables["treatments"]:
        row.update(agents="pembrolizmab;carboplatin", regimen="1e5", ecog="2.5")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_study(Path(tmp) / "s", tables)
        fast = outcome(folder, ParseOptions())
        with cell_by_cell():
            assert_same(fast, outcome(folder, ParseOptions()))
    codes = [(p.code, p.table, p.row) for p, _, _ in fast["problems"]]  # type: ignore[attr-defined]
    for code in ("TEXT-001", "BOOL-001", "NUM-001", "ENUM-002"):
        assert [(c, r) for c, t, r in codes if c == code] == [(code, 2), (code, 3)]
    assert [r for c, t, r in codes if c == "DRUG-001"] == [2, 3, 4, 5]


def test_a_valid_study_with_imputed_dates_is_the_same_both_ways() -> None:
    tables = copy_tables()
    tables["treatments"][2]["progression_date"] = "2021-03"
    tables["patients"][0]["death_date"] = "2025"  # after the last contact, 2024-11-01
    loaded = both_paths(tables, ParseOptions("middle"))
    imputed = loaded["imputations"]
    assert isinstance(imputed, list)
    assert [(i.column, i.imputed) for i in imputed] == [
        ("death_date", "2025-06-30"),
        ("progression_date", "2021-03-15"),
    ]


@given(st.from_regex(E_NOTATION, fullmatch=True))
def test_the_scientific_notation_hint_finds_every_mangled_identifier(text: str) -> None:
    assert E_NOTATION_HINT.search(text)


def test_a_clean_identifier_column_skips_the_per_value_checks() -> None:
    texts = np.array(["SYN-1", "SYN-2", None], dtype=object)
    assert not parse._flags(texts, lambda t: True, hint=E_NOTATION_HINT).any()
    assert not parse._flags(texts, lambda t: True, hint=INVISIBLE).any()
    texts[0] = "3e5"
    flags = parse._flags(texts, lambda t: bool(E_NOTATION.match(t)), hint=E_NOTATION_HINT)
    assert flags.tolist() == [True, False, False]


def test_a_column_of_other_values_is_not_taken_for_text() -> None:
    assert parse.distinct_text(pd.Series(["a", 1.5, None], dtype=object)) is None
    distinct = parse.distinct_text(pd.Series(["b", None, "a", "b", np.nan], dtype=object))
    assert distinct is not None
    assert distinct.spread(distinct.texts).tolist() == ["b", None, "a", "b", None]
    assert distinct.has_missing
    assert distinct.texts.tolist() == ["b", "a", None]
