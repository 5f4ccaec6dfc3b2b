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

import datetime as dt
import difflib
import json
import warnings
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from rechallenge.data.cutoff import apply_cutoff
from rechallenge.data.drugs import DrugDictionary, load_dictionary
from rechallenge.data.io import RawStudy, RawTable, read_study_files
from rechallenge.data.mappings import DataMappings, MappedDataValidationError, without_duplicates
from rechallenge.data.model import Imputation, Study
from rechallenge.data.parse import ColumnContext, ParseOptions, normalise_unit, parse_column
from rechallenge.data.schema import (
    BMI_PLAUSIBLE,
    LAB_PLAUSIBLE,
    LAB_UNITS,
    TABLES,
    Kind,
    TableSpec,
)
from rechallenge.errors import DataValidationError, Problem

DATE_COLUMNS_AFTER_DEATH: dict[str, tuple[str, ...]] = {
    "treatments": ("start_date", "last_dose_date", "progression_date"),
    "lesions": ("assessment_date",),
    "adverse_events": ("onset_date",),
    "labs": ("date",),
}


def load_study(
    location: str | Path,
    *,
    encoding: str = "utf-8",
    options: ParseOptions | None = None,
    cutoff: str | dt.date | None = None,
    mappings: DataMappings | None = None,
) -> Study:
    """Read and validate a study folder or workbook; `DataValidationError` lists all problems.

    Declared `mappings` (the `data:` section: dialects, renames, value maps, date formats)
    are applied while reading, each counted in `Study.mappings_applied`.

    With a `cutoff` (`endpoints.data_cutoff`) the valid study is cut to what was known on
    that day by the declared rule of `data.cutoff` (counted in `Study.cutoff`).
    """
    raw = read_study_files(Path(location), encoding, mappings)
    return apply_cutoff(validate_raw_study(raw, options or ParseOptions()), cutoff)


def validate_raw_study(raw: RawStudy, options: ParseOptions) -> Study:
    """Steps 1–5 of the module docstring."""
    problems = _missing_tables(raw)
    problems += [p for t in raw.tables.values() for p in _missing_columns(t)]
    if problems:
        raise _refusal([*raw.problems, *problems], raw)
    problems = list(raw.problems)  # values no declared mapping could read, with the rest
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
        raise _refusal(errors, raw)
    frames["treatments"] = classify_agents(frames["treatments"])
    frames["adverse_events"] = canonical_terms(frames["adverse_events"])
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
        warnings=tuple(raw.warnings) + tuple(p for p in problems if p.severity != "error"),
        mappings_applied=tuple(raw.applied),
    )


def _refusal(problems: list[Problem], raw: RawStudy) -> DataValidationError:
    """Every problem; through declared mappings, each cell once and the mappings attached."""
    if not raw.applied and not raw.problems:
        return DataValidationError(problems)
    return MappedDataValidationError(without_duplicates(problems, raw.problems), raw.applied)


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
    rows = (
        np.asarray(raw.rows)
        if raw.rows is not None
        else np.arange(raw.first_row, raw.first_row + len(cells))
    )
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
        _, lo, hi = (_number_text(part) for part in check.split(":"))
        bounds = f"between {lo} and {hi}" if hi != "None" else f"at least {lo}"
        why = f" ({col_spec.description})" if col_spec and col_spec.description else ""
        return Problem(
            "RANGE-001",
            source,
            f"the value is out of range: it must be {bounds}",
            f"enter a value {bounds}{why}",
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


def _number_text(text: str) -> str:
    """A bound as one writes it: 300 for 300.0 (other text unchanged)."""
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _plain(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def relational_problems(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """Checks across rows and tables (step 5)."""
    problems: list[Problem] = []
    treatments_source = sources.get("treatments", "treatments")
    problems += _orphans(frames, sources)
    problems += _line_order(frames["treatments"], treatments_source)
    problems += _line_numbers(frames["treatments"], treatments_source)
    problems += _overlapping_lines(frames["treatments"], treatments_source)
    problems += _date_order(frames, sources)
    problems += _before_birth(frames, sources)
    problems += _last_contact(frames, sources)
    problems += _after_death(frames, sources)
    problems += _death_without_date(frames, sources)
    problems += _grade_five_without_death(frames, sources)
    problems += _pdl1_fraction(frames["patients"], sources.get("patients", "patients"))
    problems += _pdl1_fraction(
        frames["patients"], sources.get("patients", "patients"), "pdl1_retest_tps"
    )
    problems += _pdl1_retest_pairs(frames["patients"], sources.get("patients", "patients"))
    problems += _body_size(frames["patients"], sources.get("patients", "patients"))
    if "lesions" in sources:
        problems += _lesion_problems(frames["lesions"], sources["lesions"])
    if "adverse_events" in sources:
        problems += _adverse_event_problems(frames, sources["adverse_events"])
    if "labs" in sources:
        problems += _lab_units(frames["labs"], sources["labs"])
        problems += _lab_values(frames["labs"], sources["labs"])
    return problems


def _unexplained(
    relational: list[Problem], found: list[Problem], sources: dict[str, str]
) -> list[Problem]:
    """Relational problems less the orphans an identifier typed as a number already explains.

    An ID-003 (identifier held in a number or date cell) is the root problem: an orphan on
    that very row, or one whose identifier reads as the same number as a patients row's
    typed identifier (`00123` against 123), would only repeat it on every related row; so
    would any other relational problem of the patient whose rows it splits (a line missing
    from the rows left, a record after the last contact).
    """
    typed = [p for p in found if p.code in ("ID-002", "ID-003")]  # mangled identifiers
    if not typed:
        return relational
    rows = {(p.table, p.row) for p in typed}
    patients = sources.get("patients")
    numbers = {_as_number(p.value) for p in typed if p.table == patients} - {None}
    anywhere = {_as_number(p.value) for p in typed} - {None}  # the patient's rows are split
    return [
        p
        for p in relational
        if (p.table, p.row) not in rows
        and _as_number(p.patient_id) not in (numbers if p.code == "REL-001" else anywhere)
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


def _line_numbers(treatments: pd.DataFrame, source: str) -> list[Problem]:
    """Each patient's lines are numbered 1, 2, 3, ... without a gap (bad-inputs M2).

    A gap means a line is missing (a deleted row, or a misnumbering): the course rules would
    take the wrong line for the first ICI course, so the patient cannot be classified.
    """
    lines = treatments.dropna(subset=["patient_id", "line"])
    repeated = lines.duplicated(["patient_id", "line"], keep=False)
    lines = lines[~lines["patient_id"].isin(lines.loc[repeated, "patient_id"])]  # LINE-001
    lines = lines.sort_values(["patient_id", "line"], kind="stable")
    expected = lines.groupby("patient_id").cumcount() + 1
    bad = lines[(lines["line"].astype("int64") != expected).to_numpy()]
    bad = bad.drop_duplicates("patient_id")
    problems = []
    for row, pid, line in zip(bad["source_row"], bad["patient_id"], bad["line"], strict=True):
        numbers = lines.loc[lines["patient_id"] == pid, "line"].astype(int).tolist()
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        problems.append(
            Problem(
                "LINE-003",
                source,
                f"the patient's lines of therapy are numbered {', '.join(map(str, numbers))}: "
                f"line {', '.join(map(str, missing))} is missing (a deleted or misnumbered row)",
                "restore the missing line, or number the patient's lines 1, 2, 3, ... in the "
                "order they started",
                row=int(row),
                column="line",
                value=int(line),
                patient_id=str(pid),
            )
        )
    return problems


def _overlapping_lines(treatments: pd.DataFrame, source: str) -> list[Problem]:
    """A line's last dose is not after the next line's start (bad-inputs M2: overlap).

    Pairs whose start dates are out of order are LINE-002's, so they are not judged again.
    """
    lines = treatments.dropna(subset=["patient_id", "line", "start_date"])
    lines = lines.sort_values(["patient_id", "line"], kind="stable")
    next_start = lines.groupby("patient_id")["start_date"].shift(-1)
    in_order = next_start > lines["start_date"]
    bad = in_order & (lines["last_dose_date"] > next_start)
    problems = list(
        _rows_problem(
            lines,
            bad,
            source,
            code="LINE-004",
            column="last_dose_date",
            message="the line's last_dose_date is after the start_date of the patient's next "
            "line: the lines overlap",
            fix="correct last_dose_date or the next line's start_date; agents given together "
            "belong in one line",
        )
    )
    late = in_order & (lines["progression_date"] > next_start)
    problems += _rows_problem(
        lines,
        late,
        source,
        code="DATE-ORDER-008",
        column="progression_date",
        message="the line's progression_date is after the start_date of the patient's next "
        "line (a progression on the next line belongs to that line)",
        fix="correct progression_date, or record the progression on the line it occurred on",
    )
    return problems


#: Date columns of each table that cannot precede the patient's birth (bad-inputs D4).
RECORD_DATES: dict[str, tuple[str, ...]] = {
    "treatments": ("start_date", "last_dose_date", "progression_date"),
    "lesions": ("assessment_date",),
    "adverse_events": ("onset_date",),
    "labs": ("date",),
}


def _patient_dates(frames: dict[str, pd.DataFrame], column: str) -> pd.Series:
    """patient_id -> the patient's `column` date (first row of a repeated identifier)."""
    patients = frames["patients"]
    dates = patients.set_index("patient_id")[column].dropna()
    return dates[~dates.index.duplicated()]


def _before_birth(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """No record, and no death, dated before the patient's birth (bad-inputs D4)."""
    born = _patient_dates(frames, "birth_date")
    patients = frames["patients"]
    problems: list[Problem] = list(
        _rows_problem(
            patients,
            patients["death_date"] < patients["birth_date"],
            sources.get("patients", "patients"),
            code="DATE-ORDER-006",
            column="death_date",
            message="death_date is before birth_date",
            fix="correct death_date or birth_date",
        )
    )
    for table, columns in RECORD_DATES.items():
        frame = frames[table]
        if table not in sources or frame.empty:
            continue
        birth = _death_dates(frame["patient_id"], born)
        for column in columns:
            problems += _rows_problem(
                frame,
                frame[column] < birth,
                sources[table],
                code="DATE-ORDER-006",
                column=column,
                message=f"{column} is before the patient's birth_date",
                fix=f"correct {column} or the patient's birth_date (impossible date)",
            )
    return problems


def _records(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> pd.DataFrame:
    """Every dated record of the related tables: patient_id, date, table, column, source_row."""
    parts = []
    for table, columns in RECORD_DATES.items():
        frame = frames[table]
        if table not in sources or frame.empty:
            continue
        for column in columns:
            dated = frame[frame[column].notna()]
            parts.append(
                pd.DataFrame(
                    {
                        "patient_id": dated["patient_id"].to_numpy(),
                        "date": dated[column].to_numpy(),
                        "table": sources[table],
                        "column": column,
                        "source_row": dated["source_row"].to_numpy(),
                    }
                )
            )
    names = ["patient_id", "date", "table", "column", "source_row"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=names)


def _last_contact(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """The last date known alive is on or after every record of the patient (bad-inputs D5, S1).

    Follow-up is censored at the last date known alive, so a record after it would give a
    negative or too short time. One problem per patient names the latest such record.
    Records after the death date are DEATH-002's and not judged again.
    """
    records = _records(frames, sources)
    if records.empty:
        return []
    patients = frames["patients"]
    contact = _patient_dates(frames, "last_contact_date")
    died = _death_dates(records["patient_id"], _patient_dates(frames, "death_date"))
    seen = _death_dates(records["patient_id"], contact)
    later = records[((records["date"] > seen) & ~(records["date"] > died)).to_numpy(dtype=bool)]
    if later.empty:
        return []
    latest = later.sort_values("date", kind="stable").groupby("patient_id").tail(1)
    counts = later.groupby("patient_id").size()
    rows = patients.drop_duplicates("patient_id").set_index("patient_id")["source_row"]
    problems = []
    for rec in latest.itertuples(index=False):
        n = int(counts[rec.patient_id])
        problems.append(
            Problem(
                "DATE-ORDER-007",
                sources.get("patients", "patients"),
                f"last_contact_date (last known alive) is before {n} later record(s) of the "
                f"patient, the latest in {rec.table} row {rec.source_row}, column {rec.column}",
                "set last_contact_date to the last day the patient was known alive: on or "
                "after every treatment, assessment, event and lab date",
                row=int(rows[rec.patient_id]),
                column="last_contact_date",
                patient_id=str(rec.patient_id),
            )
        )
    return problems


def _death_without_date(frames: dict[str, pd.DataFrame], sources: dict[str, str]) -> list[Problem]:
    """A line ended by death needs the death date (bad-inputs S4: an event without a date)."""
    treatments = frames["treatments"]
    dead = set(_patient_dates(frames, "death_date").index)
    bad = (treatments["end_reason"] == "death").fillna(False) & ~treatments["patient_id"].isin(dead)
    return list(
        _rows_problem(
            treatments,
            bad,
            sources.get("treatments", "treatments"),
            code="DEATH-003",
            column="end_reason",
            message="the line ended for death but the patient has no death_date",
            fix="record the death_date in patients (an event needs its date), or correct "
            "end_reason",
            value="death",
        )
    )


def _pdl1_fraction(patients: pd.DataFrame, source: str, column: str = "pdl1_tps") -> list[Problem]:
    """PD-L1 TPS is a percentage; a value strictly between 0 and 1 may be a fraction (C2)."""
    if column not in patients:
        return []
    tps = pd.to_numeric(patients[column], errors="coerce")
    bad = ((tps > 0) & (tps < 1)).fillna(False)
    selected = patients[bad.to_numpy(dtype=bool)]
    return [
        Problem(
            "PDL1-001",
            source,
            "the PD-L1 TPS is between 0 and 1: is it a fraction (0.5 = 50 %) rather than a "
            "percentage? The column is in percent (0-100)",
            "enter the TPS in percent (50 for 50 %); a TPS below 1 % is written 0",
            row=int(row),
            column=column,
            value=float(value),
            patient_id=str(pid),
        )
        for row, pid, value in zip(
            selected["source_row"], selected["patient_id"], selected[column], strict=True
        )
    ]


def _pdl1_retest_pairs(patients: pd.DataFrame, source: str) -> list[Problem]:
    """A re-tested PD-L1 TPS needs its date (the marker takes the result before the course)."""
    if "pdl1_retest_tps" not in patients or "pdl1_retest_date" not in patients:
        return []
    tps, date = patients["pdl1_retest_tps"].notna(), patients["pdl1_retest_date"].notna()
    return list(
        _rows_problem(
            patients,
            (tps != date).to_numpy(dtype=bool),
            source,
            code="PDL1-002",
            column="pdl1_retest_date",
            message="a PD-L1 re-test needs both its TPS (pdl1_retest_tps) and its date "
            "(pdl1_retest_date); one of the two is blank",
            fix="fill the missing one of pdl1_retest_tps / pdl1_retest_date, or clear both",
        )
    )


def _body_size(patients: pd.DataFrame, source: str) -> list[Problem]:
    """Height and weight that give an implausible BMI: one of them in another unit (BODY-001)."""
    if "height_cm" not in patients or "weight_kg" not in patients:
        return []
    height = pd.to_numeric(patients["height_cm"], errors="coerce")
    weight = pd.to_numeric(patients["weight_kg"], errors="coerce")
    bmi = weight / (height / 100.0) ** 2
    lo, hi = BMI_PLAUSIBLE
    bad = ((bmi < lo) | (bmi > hi)).fillna(False).to_numpy(dtype=bool)
    selected = patients[bad]
    return [
        Problem(
            "BODY-001",
            source,
            f"height {h:g} cm and weight {w:g} kg give a BMI of {b:.1f} kg/m², outside "
            f"{lo:g} to {hi:g}: is the height in inches or the weight in pounds?",
            "give the height in cm (inches × 2.54) and the weight in kg (pounds × 0.4536)",
            row=int(row),
            column="weight_kg",
            value=float(w),
            patient_id=str(pid),
        )
        for row, pid, h, w, b in zip(
            selected["source_row"],
            selected["patient_id"],
            height[bad],
            weight[bad],
            bmi[bad],
            strict=True,
        )
    ]


def _lesion_problems(lesions: pd.DataFrame, source: str) -> list[Problem]:
    """Duplicate measurements (I4) and a status that contradicts the size (R7)."""
    problems: list[Problem] = []
    key = ["patient_id", "assessment_date", "lesion_id"]
    keyed = lesions.dropna(subset=key)
    repeated = keyed[keyed.duplicated(key, keep=False)]
    problems += _grouped(
        repeated,
        repeated.groupby(key, sort=False).ngroup(),
        source,
        code="LESION-001",
        column="lesion_id",
        message="the same lesion is measured more than once on one date",
        fix="keep one record per lesion and date (the accepted, evaluator's reading)",
    )
    size = lesions["size_mm"]
    nodal = lesions["lymph_node"].fillna(False).astype(bool)
    present_size = (size > 0) & (~nodal | (size >= NODE_PATHOLOGICAL_MM))
    absent = (lesions["status"] == "absent").fillna(False) & present_size.fillna(False)
    problems += _rows_problem(
        lesions,
        absent,
        source,
        code="LESION-002",
        column="status",
        message="the lesion is marked absent but has a size (a non-nodal lesion above 0 mm, "
        "or a node of 10 mm or more)",
        fix="correct the status or the size: an absent lesion measures 0 mm (a normal node "
        "< 10 mm)",
        value="absent",
    )
    present = lesions["status"].isin(["present", "progression"]) & (size == 0) & ~nodal
    problems += _rows_problem(
        lesions,
        present.fillna(False),
        source,
        code="LESION-003",
        column="size_mm",
        message="the lesion is marked present or progressing but measures 0 mm",
        fix="correct the status or the size (0 mm means the lesion disappeared)",
        value=0.0,
    )
    return problems


#: Nodes with a short axis of 10 mm or more are pathological (RECIST 1.1 §3.1.1).
NODE_PATHOLOGICAL_MM = 10.0


def _grouped(
    frame: pd.DataFrame, groups: pd.Series, source: str, *, message: str, **fields: object
) -> list[Problem]:
    """One Problem per group of rows sharing a key, at its first row, naming every row."""
    problems: list[Problem] = []
    for _, rows in frame.groupby(groups.to_numpy(), sort=False):
        listed = sorted(int(r) for r in rows["source_row"])
        problems.append(
            Problem(
                table=source,
                row=listed[0],
                message=f"{message} (rows {', '.join(map(str, listed))})",
                patient_id=str(rows["patient_id"].iloc[0]),
                **fields,  # type: ignore[arg-type]
            )
        )
    return problems


@cache
def ctcae_terms() -> dict[str, str]:
    """The controlled CTCAE term list: case-folded spelling -> canonical term."""
    text = resources.files("rechallenge.data").joinpath("ctcae_terms.json").read_text("utf-8")
    data = json.loads(text)
    terms: dict[str, str] = {}
    for term in data["terms"]:
        terms.setdefault(term.casefold(), term)
    for alias, term in data.get("aliases", {}).items():
        terms.setdefault(alias.casefold(), term)
    return terms


def _adverse_event_problems(frames: dict[str, pd.DataFrame], source: str) -> list[Problem]:
    """Uncoded terms (A3), repeated or conflicting records, grade 5 while alive later (A2)."""
    events = frames["adverse_events"]
    if events.empty:
        return []
    problems = _unknown_terms(events, source)
    key = events["term"].astype("string").str.strip().str.casefold()
    keyed = events.assign(_term=key).dropna(subset=["patient_id", "_term", "onset_date"])
    repeated = keyed[keyed.duplicated(["patient_id", "_term", "onset_date"], keep=False)]
    problems += _grouped(
        repeated,
        repeated.groupby(["patient_id", "_term", "onset_date"], sort=False).ngroup(),
        source,
        code="AE-004",
        column="term",
        message="the same adverse event (term and onset date) is recorded more than once",
        fix="keep one row per event; record a change of grade as its worst grade, or as a "
        "new event with its own onset date",
    )
    problems += _alive_after_grade_five(frames, source)
    return problems


def canonical_terms(events: pd.DataFrame) -> pd.DataFrame:
    """Terms in their CTCAE spelling (case and listed aliases mapped; every term is known)."""
    if events.empty:
        return events
    terms = ctcae_terms()
    written = events["term"].astype("string").str.strip()
    mapped = written.str.casefold().map(terms)
    out = events.copy()
    out["term"] = mapped.where(mapped.notna(), written).astype(object)
    return out


def _unknown_terms(events: pd.DataFrame, source: str) -> list[Problem]:
    """Every term must be a CTCAE term (v5.0 or v4.03 spelling): never tabulated as its own."""
    terms = ctcae_terms()
    problems = []
    hints: dict[str, list[str]] = {}
    written = events["term"].astype("string").str.strip()
    unknown = written.notna() & ~written.str.casefold().isin(list(terms))
    selected = events[unknown.to_numpy(dtype=bool)]
    for row, pid, term in zip(
        selected["source_row"], selected["patient_id"], written[unknown], strict=True
    ):
        if term not in hints:
            close = difflib.get_close_matches(term.casefold(), list(terms), n=2, cutoff=0.75)
            hints[term] = list(dict.fromkeys(terms[c] for c in close))
        guess = " or ".join(repr(h) for h in hints[term])
        problems.append(
            Problem(
                "AE-005",
                source,
                "the adverse event term is not a CTCAE term (uncoded or misspelt terms would "
                "each be tabulated as an event of their own)",
                (f"did you mean {guess}? " if guess else "")
                + "code the event with its CTCAE v5.0 term (docs/data-model.md lists the "
                "controlled terms)",
                row=int(row),
                column="term",
                value=str(term),
                patient_id=str(pid),
            )
        )
    return problems


def _alive_after_grade_five(frames: dict[str, pd.DataFrame], source: str) -> list[Problem]:
    """A fatal (grade 5) event is not followed by a new line of therapy or a tumour assessment."""
    events = frames["adverse_events"]
    dead = events["patient_id"].isin(_patient_dates(frames, "death_date").index)  # else AE-002
    fatal = events[((events["grade"] == 5).fillna(False) & dead).to_numpy(dtype=bool)]
    if fatal.empty:
        return []
    later_parts = [
        frames["treatments"][["patient_id", "start_date"]].rename(columns={"start_date": "d"}),
        frames["lesions"][["patient_id", "assessment_date"]].rename(
            columns={"assessment_date": "d"}
        ),
    ]
    latest = pd.concat(later_parts).dropna().groupby("patient_id")["d"].max()
    after = fatal["onset_date"] < _death_dates(fatal["patient_id"], latest)
    return list(
        _rows_problem(
            fatal,
            after,
            source,
            code="AE-003",
            column="grade",
            message="a grade 5 (fatal) event, but the patient starts a line of therapy or has a "
            "tumour assessment after its onset (alive later)",
            fix="correct the grade (5 means the event caused death) or the onset_date",
            value=5,
        )
    )


def _plausible_bounds(labs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's plausible (low, high) for its test in its unit (NaN when none is known),
    looked up once per distinct (test, unit) pair, not per row."""
    test_codes, tests = pd.factorize(labs["test"], use_na_sentinel=False)
    unit_codes, units = pd.factorize(labs["unit"], use_na_sentinel=False)
    pairs = test_codes.astype(np.int64) * len(units) + unit_codes
    distinct, inverse = np.unique(pairs, return_inverse=True)
    bounds = []
    for pair in distinct.tolist():
        test, unit = tests[pair // len(units)], units[pair % len(units)]
        unit = normalise_unit(unit) if isinstance(unit, str) else None
        bounds.append(LAB_PLAUSIBLE.get(str(test), {}).get(str(unit), (np.nan, np.nan)))
    table = np.array(bounds, dtype=float).reshape(-1, 2)[inverse.reshape(-1)]
    return (
        pd.Series(table[:, 0], index=labs.index, dtype=float),
        pd.Series(table[:, 1], index=labs.index, dtype=float),
    )


def _lab_values(labs: pd.DataFrame, source: str) -> list[Problem]:
    """Values and reference limits plausible for the declared unit (L1); duplicates."""
    if labs.empty:
        return []
    low, high = _plausible_bounds(labs)
    problems: list[Problem] = []
    value_outside = ((labs["value"] < low) | (labs["value"] > high)).fillna(False)
    for column, code in (("value", "LAB-002"), ("lln", "LAB-004"), ("uln", "LAB-004")):
        values = labs[column]
        outside = (values < low) | (values > high) | ((column == "uln") & (values == 0))
        if column != "value":  # limits in the same wrong unit as the value: said once
            outside = outside & ~value_outside
        selected = labs[outside.fillna(False).to_numpy(dtype=bool)]
        for row, pid, test, unit, value in zip(
            selected["source_row"],
            selected["patient_id"],
            selected["test"],
            selected["unit"],
            selected[column],
            strict=True,
        ):
            lo, hi = LAB_PLAUSIBLE[str(test)][normalise_unit(str(unit))]
            what = "result" if column == "value" else f"reference limit ({column})"
            problems.append(
                Problem(
                    code,
                    source,
                    f"the {what} is implausible for {test} in {unit} (plausible {lo:g} to "
                    f"{hi:g}): a value in another unit, or a typing error?",
                    "check the unit column: give the value in the unit written beside it, or "
                    "correct the unit",
                    row=int(row),
                    column=column,
                    value=float(value),
                    patient_id=str(pid),
                )
            )
    crossed = (labs["lln"] >= labs["uln"]).fillna(False)
    problems += _rows_problem(
        labs,
        crossed,
        source,
        code="LAB-003",
        column="lln",
        message="the lower limit of normal (lln) is not below the upper limit (uln)",
        fix="correct lln or uln (were the two swapped?)",
    )
    key = ["patient_id", "date", "test"]
    keyed = labs.dropna(subset=key)
    repeated = keyed[keyed.duplicated(key, keep=False)]
    problems += _grouped(
        repeated,
        repeated.groupby(key, sort=False).ngroup(),
        source,
        code="LAB-005",
        column="test",
        message="the same test is recorded more than once for one patient and date",
        fix="keep one result per test and date (the accepted one); record a repeat "
        "measurement on its own date",
    )
    return problems


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
