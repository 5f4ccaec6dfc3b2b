"""Validation: raw cells -> a typed `Study`, or every problem at once.

Order of work (each step reports all it finds before the next is judged):

1. tables: the required ones are there;
2. columns: required columns present (closest names suggested for misspellings);
3. cells: each parsed by its kind (`parse`), bad cells named;
4. columns as a whole: ranges, filled cells, uniqueness (pandera schemas built from the contract);
5. relations between rows and tables: orphans, line order, date order, death, lab units.

Nothing is modified in the user's files and no row is dropped.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from rechallenge.data.drugs import DrugDictionary, load_dictionary
from rechallenge.data.io import RawStudy, RawTable, read_study_files
from rechallenge.data.model import Imputation, Study
from rechallenge.data.parse import ColumnContext, ParseOptions, normalise_unit, parse_column
from rechallenge.data.schema import LAB_UNITS, TABLES, Kind, TableSpec
from rechallenge.errors import DataValidationError, Problem

DATE_COLUMNS_AFTER_DEATH: dict[str, tuple[str, ...]] = {
    "treatments": ("start_date", "last_dose_date", "progression_date"),
    "lesions": ("assessment_date",),
    "adverse_events": ("onset_date",),
    "labs": ("date",),
}


def load_study(
    location: str | Path, *, encoding: str = "utf-8", options: ParseOptions | None = None
) -> Study:
    """Read and validate a study folder or workbook; `DataValidationError` lists all problems."""
    raw = read_study_files(Path(location), encoding)
    return validate_raw_study(raw, options or ParseOptions())


def validate_raw_study(raw: RawStudy, options: ParseOptions) -> Study:
    """Steps 1–5 of the module docstring."""
    problems = _missing_tables(raw)
    problems += [p for t in raw.tables.values() for p in _missing_columns(t)]
    if problems:
        raise DataValidationError(problems)
    imputations: list[Imputation] = []
    frames: dict[str, pd.DataFrame] = {}
    for spec in TABLES:
        raw_table = raw.tables.get(spec.name)
        if raw_table is None:
            frames[spec.name] = _empty_table(spec)
            continue
        table_options = ParseOptions(
            options.partial_dates, options.excel_serial_dates, raw_table.date_system_1904
        )
        frames[spec.name] = _parse_table(raw_table, spec, table_options, problems, imputations)
        reported = {(p.row, p.column) for p in problems if p.table == raw_table.source}
        problems += [
            p
            for p in _schema_problems(frames[spec.name], spec, raw_table.source)
            if (p.row, p.column) not in reported  # a cell that failed to parse is left blank
        ]
    sources = {name: t.source for name, t in raw.tables.items()}
    problems += _unexplained(relational_problems(frames, sources), problems, sources)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataValidationError(errors)
    frames["treatments"] = classify_agents(frames["treatments"])
    return Study(
        patients=frames["patients"],
        treatments=frames["treatments"],
        lesions=frames["lesions"],
        adverse_events=frames["adverse_events"],
        labs=frames["labs"],
        location=raw.location,
        supplied=frozenset(raw.tables),
        checksums=dict(raw.checksums),
        imputations=tuple(imputations),
        warnings=tuple(p for p in problems if p.severity != "error"),
    )


def _missing_tables(raw: RawStudy) -> list[Problem]:
    where = "folder" if raw.location.is_dir() else "workbook"
    return [
        Problem(
            "TABLE-001",
            spec.name,
            f"the required table {spec.name!r} is missing from the {where}",
            f"add {spec.name}.csv to the folder (or a sheet named {spec.name!r} to the workbook)",
        )
        for spec in TABLES
        if spec.required and spec.name not in raw.tables
    ]


def _missing_columns(table: RawTable) -> list[Problem]:
    spec = next(s for s in TABLES if s.name == table.name)
    present = [str(c) for c in table.cells.columns]
    problems = []
    for col in spec.columns:
        if col.required and col.name not in present:
            extra = [c for c in present if c not in spec.column_names]
            close = difflib.get_close_matches(col.name, extra, n=2, cutoff=0.5)
            hint = f" (is {' or '.join(map(repr, close))} meant?)" if close else ""
            problems.append(
                Problem(
                    "COL-001",
                    table.source,
                    f"the required column {col.name!r} is missing{hint}",
                    f"name the columns exactly as the data model does: "
                    f"{', '.join(spec.column_names)}",
                    column=col.name,
                )
            )
    return problems


def _empty_table(spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame({c.name: pd.Series(dtype=_dtype(c.kind)) for c in spec.columns})
    frame["source_row"] = pd.Series(dtype="int64")
    return frame


def _dtype(kind: Kind) -> str:
    return {
        Kind.DATE: "datetime64[ns]",
        Kind.NUMBER: "float64",
        Kind.INTEGER: "Int64",
        Kind.BOOL: "boolean",
    }.get(kind, "object")


def _parse_table(
    raw: RawTable,
    spec: TableSpec,
    options: ParseOptions,
    problems: list[Problem],
    imputations: list[Imputation],
) -> pd.DataFrame:
    """Parse every contract column; extra columns are kept as text."""
    cells = raw.cells if _numbered_from_zero(raw.cells) else raw.cells.reset_index(drop=True)
    rows = np.arange(raw.first_row, raw.first_row + len(cells))
    ids = _patient_ids(cells["patient_id"])
    parsed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in cells.columns:
            parsed[col.name] = pd.Series([None] * len(cells), dtype=_dtype(col.kind))
            continue
        ctx = ColumnContext(spec.name, raw.source, col, rows, ids, problems, imputations)
        parsed[col.name] = parse_column(cells[col.name], ctx, options)
    frame = pd.DataFrame(parsed)
    for extra in (c for c in cells.columns if c not in spec.column_names):
        frame[str(extra)] = cells[extra].map(lambda v: None if v is None else str(v))
    frame["source_row"] = rows
    return frame


def _numbered_from_zero(cells: pd.DataFrame) -> bool:
    """True when rows are indexed 0, 1, 2, ... as read, so no renumbered copy is needed."""
    return pd.RangeIndex(len(cells)).identical(cells.index)


def _patient_ids(values: pd.Series) -> pd.Series:
    """Patient identifiers as text, to name the patient of each bad cell."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values  # every cell is already a string (always so for CSV)
    return values.map(lambda v: None if v is None else str(v))


def _schema(spec: TableSpec) -> pa.DataFrameSchema:
    """The pandera schema of a parsed table: filled cells, ranges, uniqueness."""
    columns = {}
    for col in spec.columns:
        checks = []
        if col.minimum is not None:
            checks.append(pa.Check.ge(col.minimum, error=f"range:{col.minimum}:{col.maximum}"))
        if col.maximum is not None:
            checks.append(pa.Check.le(col.maximum, error=f"range:{col.minimum}:{col.maximum}"))
        columns[col.name] = pa.Column(
            checks=checks,
            nullable=not col.non_null,
            unique=spec.name == "patients" and col.name == "patient_id",
            required=False,
            coerce=False,
        )
    unique = {"treatments": ["patient_id", "line"]}.get(spec.name)
    return pa.DataFrameSchema(columns, unique=unique, report_duplicates="all")


#: pandas 2.x warns when pandera gathers failure cases whose values are all missing (a
#: required cell left empty); the cases and so the problems are the same either way.
PANDERA_CONCAT_WARNING = "The behavior of DataFrame concatenation with empty or all-NA entries"


def _schema_problems(frame: pd.DataFrame, spec: TableSpec, source: str) -> list[Problem]:
    """Run the pandera schema lazily and turn each failure case into a located Problem."""
    if _schema_cannot_fail(frame, spec):
        return []
    indexed = frame.set_index(frame["source_row"].to_numpy())
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", PANDERA_CONCAT_WARNING, FutureWarning)
            _schema(spec).validate(indexed, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        found = [
            _problem_from_case(case, spec, source, indexed)
            for case in cases.itertuples(index=False)
            if not _is_duplicate_of_parse_error(case)
        ]
        unique = list({(p.code, p.row, p.column): p for p in found}.values())
        return _merge_duplicates(unique)
    return []


def _schema_cannot_fail(frame: pd.DataFrame, spec: TableSpec) -> bool:
    """True when no cell is empty where it must be filled, out of range, or a repeated key.

    These are all the schema checks, so a table passing them needs no pandera run (a slow
    one on large tables); any doubt leaves the judgement, and the messages, to pandera.
    """
    for col in spec.columns:
        values = frame[col.name]
        if col.non_null and values.isna().any():
            return False
        if col.minimum is not None and not (values.dropna() >= col.minimum).all():
            return False
        if col.maximum is not None and not (values.dropna() <= col.maximum).all():
            return False
    if spec.name == "patients" and frame["patient_id"].duplicated().any():
        return False
    return not (spec.name == "treatments" and frame.duplicated(["patient_id", "line"]).any())


DUPLICATE_CODES = ("ID-001", "LINE-001")


def _merge_duplicates(problems: list[Problem]) -> list[Problem]:
    """One problem per duplicated key, naming every row that carries it."""
    groups: dict[tuple[str, str | None], list[Problem]] = {}
    out: list[Problem] = []
    for problem in problems:
        if problem.code in DUPLICATE_CODES:
            groups.setdefault((problem.code, problem.patient_id), []).append(problem)
        else:
            out.append(problem)
    for copies in groups.values():
        rows = sorted(p.row for p in copies if p.row is not None)
        first = copies[0]
        listed = ", ".join(str(r) for r in rows)
        out.append(replace(first, row=rows[0], message=f"{first.message} (rows {listed})"))
    return out


def _is_duplicate_of_parse_error(case: object) -> bool:
    """Type and presence notes repeat what parsing and the column check already said."""
    check = str(getattr(case, "check", ""))
    return check.startswith("dtype") or check == "column_in_dataframe"


def _problem_from_case(case: object, spec: TableSpec, source: str, frame: pd.DataFrame) -> Problem:
    column = getattr(case, "column", None)
    check = str(getattr(case, "check", ""))
    row = getattr(case, "index", None)
    row_number = int(row) if row is not None and not pd.isna(row) else None
    value = getattr(case, "failure_case", None)
    pid = str(frame.at[row_number, "patient_id"]) if row_number in frame.index else None
    col_spec = spec.column(str(column)) if column in spec.column_names else None
    identifying = bool(col_spec and col_spec.identifying)
    if check == "not_nullable":
        return Problem(
            "CELL-001",
            source,
            "the cell must not be empty",
            "fill in the value",
            row=row_number,
            column=str(column),
            patient_id=pid,
        )
    if check == "field_uniqueness" and column == "patient_id":
        return Problem(
            "ID-001",
            source,
            "the patient_id appears on more than one row",
            "keep one row per patient (patients is one row per patient)",
            row=row_number,
            column="patient_id",
            value=value,
            identifying=True,
            patient_id=pid,
        )
    if check == "multiple_fields_uniqueness" or "unique" in check:
        return Problem(
            "LINE-001",
            source,
            "the same (patient_id, line) appears on more than one row",
            "number each patient's lines of therapy 1, 2, 3, ... once each",
            row=row_number,
            column="line",
            patient_id=pid,
        )
    if check.startswith("range:"):
        _, lo, hi = check.split(":")
        bounds = f"between {lo} and {hi}" if hi != "None" else f"at least {lo}"
        return Problem(
            "RANGE-001",
            source,
            f"the value is out of range: it must be {bounds}",
            f"enter a value {bounds}",
            row=row_number,
            column=str(column),
            value=_plain(value),
            identifying=identifying,
            patient_id=pid,
        )
    return Problem(
        "CHECK-001",
        source,
        f"check {check!r} failed",
        "correct the value",
        row=row_number,
        column=str(column) if column else None,
        patient_id=pid,
    )


def _plain(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def relational_problems(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """Checks across rows and tables (step 5)."""
    problems: list[Problem] = []
    problems += _orphans(frames, sources)
    problems += _line_order(frames["treatments"], sources.get("treatments", "treatments"))
    problems += _date_order(frames, sources)
    problems += _after_death(frames, sources)
    problems += _grade_five_without_death(frames, sources)
    if "labs" in sources:
        problems += _lab_units(frames["labs"], sources["labs"])
    return problems


def _unexplained(
    relational: list[Problem], found: list[Problem], sources: dict[str, str]
) -> list[Problem]:
    """Relational problems less the orphans an identifier typed as a number already explains.

    An ID-003 (identifier held in a number or date cell) is the root problem: an orphan on
    that very row, or one whose identifier reads as the same number as a patients row's
    typed identifier (`00123` against 123), would only repeat it on every related row.
    """
    typed = [p for p in found if p.code == "ID-003"]
    if not typed:
        return relational
    rows = {(p.table, p.row) for p in typed}
    patients = sources.get("patients")
    numbers = {_as_number(p.value) for p in typed if p.table == patients} - {None}
    return [
        p
        for p in relational
        if p.code != "REL-001"
        or ((p.table, p.row) not in rows and _as_number(p.patient_id) not in numbers)
    ]


def _as_number(text: object) -> float | None:
    """The number an identifier's text reads as (`00123` -> 123.0), None if it is no number."""
    try:
        return float(str(text))
    except ValueError:
        return None


def _rows_problem(
    frame: pd.DataFrame, mask: pd.Series | np.ndarray, source: str, **fields: object
) -> Iterable[Problem]:
    """One Problem per row selected by `mask`, located by its source row."""
    selected = frame[np.asarray(mask, dtype=bool)]
    for row, pid in zip(selected["source_row"], selected["patient_id"], strict=True):
        yield Problem(table=source, row=int(row), patient_id=str(pid), **fields)  # type: ignore[arg-type]


def _orphans(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    known = set(frames["patients"]["patient_id"].dropna())
    problems: list[Problem] = []
    for name in ("treatments", "lesions", "adverse_events", "labs"):
        frame = frames[name]
        if name not in sources or frame.empty:
            continue
        orphan = frame["patient_id"].notna() & ~frame["patient_id"].isin(known)
        problems += _rows_problem(
            frame,
            orphan,
            sources[name],
            code="REL-001",
            column="patient_id",
            message="the patient_id is not in the patients table",
            fix="add the patient to patients, or correct the identifier",
            identifying=True,
        )
    return problems


def _line_order(treatments: pd.DataFrame, source: str) -> list[Problem]:
    """Within a patient, a later line must start after the earlier one."""
    lines = treatments.dropna(subset=["patient_id", "line", "start_date"])
    lines = lines.sort_values(["patient_id", "line"], kind="stable")
    previous_start = lines.groupby("patient_id")["start_date"].shift(1)
    bad = previous_start.notna() & (lines["start_date"] <= previous_start)
    return list(
        _rows_problem(
            lines,
            bad,
            source,
            code="LINE-002",
            column="start_date",
            message="the line number disagrees with the order of start dates (this line starts "
            "on or before the previous line)",
            fix="number lines in the order they started, or correct the start_date",
        )
    )


DATE_ORDER_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("treatments", "start_date", "last_dose_date", "DATE-ORDER-001"),
    ("treatments", "start_date", "progression_date", "DATE-ORDER-002"),
    ("patients", "birth_date", "diagnosis_date", "DATE-ORDER-003"),
    ("patients", "diagnosis_date", "death_date", "DATE-ORDER-004"),
    ("patients", "birth_date", "last_contact_date", "DATE-ORDER-005"),
)


def _date_order(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """`later` must not precede `earlier` on the same row."""
    problems: list[Problem] = []
    for table, earlier, later, code in DATE_ORDER_RULES:
        frame = frames[table]
        bad = frame[later] < frame[earlier]
        problems += _rows_problem(
            frame,
            bad,
            sources.get(table, table),
            code=code,
            column=later,
            message=f"{later} is before {earlier}",
            fix=f"correct {earlier} or {later}; {later} cannot precede {earlier}",
        )
    return problems


def _after_death(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """No treatment, assessment, event or lab after the patient's death date."""
    patients = frames["patients"]
    death = patients.set_index("patient_id")["death_date"].dropna()
    death = death[~death.index.duplicated()]
    problems: list[Problem] = list(
        _rows_problem(
            patients,
            patients["last_contact_date"] > patients["death_date"],
            sources.get("patients", "patients"),
            code="DEATH-001",
            column="last_contact_date",
            message="last_contact_date (last known alive) is after death_date",
            fix="correct death_date or last_contact_date",
        )
    )
    for table, columns in DATE_COLUMNS_AFTER_DEATH.items():
        frame = frames[table]
        if table not in sources or frame.empty:
            continue
        died = _death_dates(frame["patient_id"], death)
        for column in columns:
            problems += _rows_problem(
                frame,
                frame[column] > died,
                sources[table],
                code="DEATH-002",
                column=column,
                message=f"{column} is after the patient's death_date",
                fix=f"correct {column} or the patient's death_date",
            )
    return problems


def _death_dates(patient_ids: pd.Series, death: pd.Series) -> pd.Series:
    """Each row's death date, NaT when none is known.

    pandas 3 cannot map through an empty datetime Series (it casts the empty mapper to
    float64 and raises), and a study where nobody has a valid death date has one.
    """
    if death.empty:
        return pd.Series(pd.NaT, index=patient_ids.index, dtype="datetime64[ns]")
    return patient_ids.map(death)


def _grade_five_without_death(
    frames: dict[str, pd.DataFrame], sources: dict[str, str]
) -> list[Problem]:
    """A fatal (grade 5) event needs a recorded death."""
    events = frames["adverse_events"]
    if "adverse_events" not in sources or events.empty:
        return []
    dead = set(frames["patients"].dropna(subset=["death_date"])["patient_id"])
    bad = (events["grade"] == 5).fillna(False) & ~events["patient_id"].isin(dead)
    return list(
        _rows_problem(
            events,
            bad,
            sources["adverse_events"],
            code="AE-002",
            column="grade",
            message="a grade 5 (fatal) event for a patient without a death_date",
            fix="record the death_date in patients, or correct the grade",
            value=5,
        )
    )


def _lab_units(labs: pd.DataFrame, source: str) -> list[Problem]:
    """Every lab unit must be one the CTCAE engine converts explicitly."""
    problems: list[Problem] = []
    unit_codes, units = pd.factorize(labs["unit"].to_numpy(dtype=object), use_na_sentinel=True)
    normalised = [normalise_unit(u) if isinstance(u, str) else u for u in units]
    test_codes, tests = pd.factorize(labs["test"].to_numpy(dtype=object), use_na_sentinel=True)
    code_of_test = {name: code for code, name in enumerate(tests)}
    for test, accepted in LAB_UNITS.items():
        accepted_norm = {normalise_unit(a) for a in accepted}
        unknown = np.array([u not in accepted_norm for u in normalised] + [False], dtype=bool)
        if test not in code_of_test or not unknown.any():
            continue
        bad = (test_codes == code_of_test[test]) & unknown[unit_codes]  # -1 reads the final False
        selected = labs[bad]
        for row, pid, unit in zip(
            selected["source_row"], selected["patient_id"], selected["unit"], strict=True
        ):
            problems.append(
                Problem(
                    "LAB-001",
                    source,
                    f"unknown unit for {test}",
                    f"use one of: {', '.join(accepted)}",
                    row=int(row),
                    column="unit",
                    value=unit,
                    patient_id=str(pid),
                )
            )
    return problems


def classify_agents(treatments: pd.DataFrame) -> pd.DataFrame:
    """Add `agent_inns`, `agent_classes` and `is_pd1_axis` from the drug dictionary."""
    dictionary = load_dictionary()
    cache: dict[tuple[str, ...], AgentClasses] = {}
    agents_per_row = list(treatments["agents"])
    for agents in agents_per_row:
        if agents not in cache:
            cache[agents] = _classify(agents, dictionary)
    per_row = [cache[agents] for agents in agents_per_row]
    out = treatments.copy()
    out["agent_inns"] = _object_series([c.inns for c in per_row], out.index)
    out["agent_classes"] = _object_series([c.classes for c in per_row], out.index)
    out["is_pd1_axis"] = pd.Series([c.pd1_axis for c in per_row], index=out.index, dtype=bool)
    return out


class AgentClasses(NamedTuple):
    """What the drug dictionary says of one regimen's agents."""

    inns: tuple[str, ...]  # canonical names, in the order written, once each
    classes: tuple[str, ...]  # therapy classes, sorted
    pd1_axis: bool  # at least one agent acts on the PD-1 axis


def _classify(agents: tuple[str, ...], dictionary: DrugDictionary) -> AgentClasses:
    """One regimen's agents looked up once (regimens repeat over many rows)."""
    drugs = [d for d in (dictionary.lookup(a) for a in agents) if d is not None]
    return AgentClasses(
        inns=tuple(dict.fromkeys(d.inn for d in drugs)),
        classes=tuple(sorted({c for d in drugs for c in d.classes})),
        pd1_axis=any(d.pd1_axis for d in drugs),
    )


def _object_series(items: list[tuple[str, ...]], index: pd.Index) -> pd.Series:
    """A column of tuples (one per row), kept as Python objects."""
    column = np.empty(len(items), dtype=object)
    column[:] = items
    return pd.Series(column, index=index, dtype=object)
