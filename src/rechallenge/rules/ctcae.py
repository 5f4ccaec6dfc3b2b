"""CTCAE grading of laboratory results (v4.03, the default, and v5.0), vectorised over a table.

The criteria are data: ``data/ctcae_v4.json`` and ``data/ctcae_v5.json`` hold, per term, the
CTCAE wording beside each machine-readable threshold; ``data/lab_units.json`` holds the accepted
units, their conversion factors and default reference limits with their sources. This module
only evaluates them (see docs/rules-ctcae.md for the algorithm).

Exception tree::

    RechallengeError, ValueError
    └── LabGradingError          a lab table cannot be graded
        ├── UnknownUnitError     a unit not accepted for its test (names test, unit, accepted units)
        └── UnknownTestError     a test with no CTCAE term in this version's catalogue
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from rechallenge.errors import RechallengeError

__all__ = [
    "CtcaeSettings",
    "CtcaeVersion",
    "LabGradingError",
    "UnitProblem",
    "UnknownTestError",
    "UnknownUnitError",
    "accepted_units",
    "grade_labs",
    "grade_value",
    "select_baseline",
    "terms_for",
]

CtcaeVersion = Literal["4.0", "5.0"]

# ctcae-labs.md §1.7: compare at fixed precision; admiral uses signif(x, 15). Twelve significant
# digits absorb the binary error of unit conversion and ULN multiples (e.g. 3 x 40.1).
SIGNIFICANT_DIGITS = 12

_CATALOGUE_FILES: dict[str, str] = {"4.0": "ctcae_v4.json", "5.0": "ctcae_v5.json"}
_UNITS_FILE = "lab_units.json"
_LIMIT_KIND = {"low": "lln", "high": "uln"}
# Score of an unknown grade when choosing between the low and high term of one test: above 0
# (an unknown is more informative than "normal"), below grade 1.
_UNKNOWN_SCORE = 0.5


class LabGradingError(RechallengeError, ValueError):
    """A lab table cannot be graded."""


@dataclass(frozen=True)
class UnitProblem:
    """One (test, unit) combination that is not accepted, and the spreadsheet rows that use it."""

    test: str
    unit: str
    accepted: tuple[str, ...]
    source_rows: tuple[int, ...]

    def describe(self) -> str:
        rows = ", ".join(str(r) for r in self.source_rows[:10])
        more = f" and {len(self.source_rows) - 10} more" if len(self.source_rows) > 10 else ""
        return (
            f"unit {self.unit!r} is not accepted for test {self.test!r} (rows {rows}{more}); "
            f"accepted units: {', '.join(self.accepted)}"
        )


class UnknownUnitError(LabGradingError):
    """Lab rows carry a unit that is not accepted for their test.

    ``test``, ``unit`` and ``accepted`` describe the first problem; ``problems`` lists all.
    """

    def __init__(self, problems: Sequence[UnitProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        self.test = first.test
        self.unit = first.unit
        self.accepted = first.accepted
        super().__init__(
            "; ".join(p.describe() for p in self.problems)
            + ". Fix: convert the values or add the unit with its factor to lab_units.json"
        )


class UnknownTestError(LabGradingError):
    """Lab rows name a test that this CTCAE version cannot grade."""

    def __init__(self, tests: Mapping[str, Sequence[int]], known: Sequence[str]) -> None:
        self.tests = dict(tests)
        listed = "; ".join(
            f"{t!r} (rows {', '.join(str(r) for r in rows[:10])})" for t, rows in tests.items()
        )
        super().__init__(f"no CTCAE term for test {listed}; gradable tests: {', '.join(known)}")


class CtcaeSettings(BaseModel):
    """Choices made where CTCAE cannot be read from a lab value alone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assumption: Literal["worst", "best"] = Field(
        default="worst",
        description="Clinical qualifiers (symptomatic, intervention) unknown from a value: "
        "worst (admiral convention: hypokalemia <LLN-3.0 is grade 2, v5 sodium 125-129 grade 3) "
        "or best case.",
    )
    missing_limit: Literal["default", "unknown"] = Field(
        default="default",
        description="When a row has no LLN/ULN: use the documented default of lab_units.json "
        "(limit_source 'default') or leave criteria that need it unevaluable (grade unknown).",
    )
    significant_digits: int = Field(
        default=SIGNIFICANT_DIGITS,
        ge=6,
        le=15,
        description="Values and thresholds are rounded to this many significant digits before "
        "comparison.",
    )


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class _Criterion:
    grade: int
    op: str
    ref: str  # "value", "lln", "uln" or "baseline"
    values: Mapping[str, float]  # absolute thresholds per unit (ref == "value")
    times: float
    when: str | None
    assumption: str | None
    flag: str | None


@dataclass(frozen=True)
class _Term:
    test: str
    term: str
    direction: str
    unit: str
    gradable: bool
    criteria: tuple[_Criterion, ...]

    @property
    def uses_baseline(self) -> bool:
        return any(c.ref == "baseline" for c in self.criteria)

    @property
    def limit_kind(self) -> str:
        return _LIMIT_KIND[self.direction]

    @property
    def uses_limit(self) -> bool:
        return (not self.gradable) or any(c.ref == self.limit_kind for c in self.criteria)


@dataclass(frozen=True)
class _TestUnits:
    test: str
    unit: str
    accepted: tuple[str, ...]
    factors: Mapping[str, tuple[str, float]]  # normalised alias -> (unit name, factor)
    defaults: Mapping[str, Mapping[str, float]]  # "lln"/"uln" -> sex -> value in `unit`


def _norm_unit(unit: str) -> str:
    return unicodedata.normalize("NFKC", unit).replace(" ", "").casefold()


def _read_json(name: str) -> Any:
    text = resources.files("rechallenge.rules").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


@cache
def _units() -> dict[str, _TestUnits]:
    out: dict[str, _TestUnits] = {}
    for test, spec in _read_json(_UNITS_FILE)["tests"].items():
        factors: dict[str, tuple[str, float]] = {}
        for name, u in spec["units"].items():
            for alias in (name, *u["aliases"]):
                factors[_norm_unit(alias)] = (name, float(u["factor"]))
        limits = spec.get("default_limits", {})
        defaults = {
            k: {s: float(v) for s, v in limits[k].items()} for k in ("lln", "uln") if k in limits
        }
        out[test] = _TestUnits(test, spec["unit"], tuple(spec["units"]), factors, defaults)
    return out


@cache
def _catalogue(version: str) -> dict[str, tuple[_Term, ...]]:
    if version not in _CATALOGUE_FILES:
        raise LabGradingError(f"CTCAE version {version!r} is not one of {sorted(_CATALOGUE_FILES)}")
    terms: dict[str, list[_Term]] = {}
    for t in _read_json(_CATALOGUE_FILES[version])["terms"]:
        criteria = tuple(
            _Criterion(
                grade=int(c["grade"]),
                op=c["op"],
                ref=c.get("ref", "value"),
                values={u: float(v) for u, v in c.get("value", {}).items()},
                times=float(c.get("times", 1)),
                when=c.get("when"),
                assumption=c.get("assumption"),
                flag=c.get("flag"),
            )
            for c in t["criteria"]
        )
        term = _Term(
            t["test"],
            t["term"],
            t["direction"],
            t["unit"],
            t.get("gradable_from_value", True),
            criteria,
        )
        terms.setdefault(term.test, []).append(term)
    return {k: tuple(v) for k, v in terms.items()}


def terms_for(test: str, version: CtcaeVersion = "4.0") -> tuple[str, ...]:
    """The CTCAE terms graded from `test` in `version`, low direction first."""
    return tuple(t.term for t in _catalogue(version).get(test, ()))


def accepted_units(test: str) -> tuple[str, ...]:
    """The units accepted for `test` (aliases are matched too, see lab_units.json)."""
    return _units()[test].accepted


# --------------------------------------------------------------------------- numerics


def _signif(a: np.ndarray, digits: int) -> np.ndarray:
    """Round to `digits` significant digits (NaN and 0 pass through)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(a)))
    mag = np.where(np.isfinite(mag), mag, 0.0)
    scale = np.power(10.0, digits - 1 - mag)
    return np.round(a * scale) / scale


def _compare(x: np.ndarray, op: str, thr: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "<":
            return x < thr
        if op == "<=":
            return x <= thr
        if op == ">":
            return x > thr
        if op == ">=":
            return x >= thr
    raise LabGradingError(f"unknown comparison {op!r} in the CTCAE catalogue")


# --------------------------------------------------------------------------- grading kernel


@dataclass
class _Prepared:
    """Arrays of one test's rows, converted to the grading unit."""

    unit_name: np.ndarray  # accepted unit name per row
    raw: np.ndarray  # value as reported
    si: np.ndarray  # value in the grading unit
    limits: dict[str, np.ndarray]  # "lln"/"uln" -> limit in the grading unit (NaN if none)
    baseline: np.ndarray
    baseline_abnormal: np.ndarray


def _grade_term(
    term: _Term, p: _Prepared, s: CtcaeSettings
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Grades of one term as floats (NaN = unknown) and the flags raised on each row."""
    n = len(p.si)
    digits = s.significant_digits
    flags: list[tuple[str, np.ndarray]] = []
    value_known = ~np.isnan(p.si)
    limit = p.limits[term.limit_kind]
    if not term.gradable:
        beyond = _compare(p.si, "<" if term.direction == "low" else ">", limit)
        out = np.where(beyond | np.isnan(limit) | ~value_known, np.nan, 0.0)
        flags.append(("not_gradable", beyond & value_known))
        return out, flags
    si = _signif(p.si, digits)
    raw = _signif(p.raw, digits)
    grade = np.zeros(n)
    unknown_ceiling = np.zeros(n)
    met_by: list[tuple[_Criterion, np.ndarray]] = []
    for c in term.criteria:
        if c.assumption is not None and c.assumption != s.assumption:
            continue
        applies = np.ones(n, dtype=bool)
        if c.when == "baseline_abnormal":
            applies = p.baseline_abnormal
        elif c.when == "baseline_normal":
            applies = ~p.baseline_abnormal
        x = si
        if c.ref == "value":
            thr = np.full(n, c.values.get(term.unit, np.nan))
            for unit, value in c.values.items():
                if unit != term.unit:
                    in_unit = p.unit_name == unit
                    thr = np.where(in_unit, value, thr)
                    x = np.where(in_unit, raw, x)
        elif c.ref == "baseline":
            thr = _signif(c.times * p.baseline, digits)
            applies = applies & ~np.isnan(p.baseline)  # missing baseline: clause skipped
        else:
            thr = _signif(c.times * p.limits[c.ref], digits)
        evaluable = applies & ~np.isnan(thr)
        met = evaluable & _compare(x, c.op, thr)
        grade = np.where(met & (c.grade > grade), c.grade, grade)
        unevaluable = applies & np.isnan(thr)
        unknown_ceiling = np.where(
            unevaluable, np.maximum(unknown_ceiling, c.grade), unknown_ceiling
        )
        if c.flag is not None:
            met_by.append((c, met))
    unknown = (unknown_ceiling > grade) | ~value_known
    out = np.where(unknown, np.nan, grade)
    for c, met in met_by:
        assert c.flag is not None
        flags.append((c.flag, met & (out == c.grade)))
    flags.append(("limit_missing", unknown & value_known))
    if term.direction == "low":
        inside = (out >= 1) & _compare(si, ">=", _signif(limit, digits))
    else:
        inside = (out >= 1) & _compare(si, "<=", _signif(limit, digits))
    flags.append(("within_normal_range", inside))
    if term.uses_baseline:
        flags.append(("baseline_missing", np.isnan(p.baseline) & value_known))
    return out, flags


# --------------------------------------------------------------------------- table API


def _sex_array(patient_ids: pd.Series, sex_by_patient: Mapping[str, str] | pd.Series) -> np.ndarray:
    mapping = sex_by_patient if isinstance(sex_by_patient, pd.Series) else pd.Series(sex_by_patient)
    sexes = patient_ids.map(mapping)
    return sexes.astype("string").str.strip().str.lower().to_numpy(dtype=object, na_value=None)


def _unit_lookup(
    test: str, units: pd.Series, rows: pd.Series
) -> tuple[np.ndarray, np.ndarray, list[UnitProblem]]:
    spec = _units()[test]
    names = np.empty(len(units), dtype=object)
    factors = np.full(len(units), np.nan)
    problems: list[UnitProblem] = []
    codes, uniques = pd.factorize(units.astype("string").fillna(""), sort=False)
    for i, unit in enumerate(uniques):
        hit = spec.factors.get(_norm_unit(str(unit)))
        mask = codes == i
        if hit is None:
            bad_rows = tuple(int(r) for r in rows.to_numpy()[mask])
            problems.append(UnitProblem(test, str(unit), spec.accepted, bad_rows))
            continue
        names[mask] = hit[0]
        factors[mask] = hit[1]
    return names, factors, problems


def _defaults(test: str, kind: str, sexes: np.ndarray) -> np.ndarray:
    """Default limits per row by sex; with sex unknown, only a limit common to both sexes."""
    table = _units()[test].defaults.get(kind, {})
    common = set(table.values())
    unknown_sex = common.pop() if len(common) == 1 else np.nan
    return np.array([table.get(s, unknown_sex) if s else unknown_sex for s in sexes], dtype=float)


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="raise").to_numpy(dtype=float, na_value=np.nan)


def select_baseline(
    labs: pd.DataFrame,
    index_date_by_patient: Mapping[str, pd.Timestamp] | pd.Series,
    *,
    window_days: int | None = None,
) -> pd.DataFrame:
    """The baseline row per patient and test: the last result on or before the index date.

    ``window_days`` (optional) ignores results more than that many days before the index date.
    Returns the selected rows of `labs` (all columns), one per (patient_id, test) at most.
    """
    index = (
        index_date_by_patient
        if isinstance(index_date_by_patient, pd.Series)
        else pd.Series(index_date_by_patient, dtype="datetime64[ns]")
    )
    start = labs["patient_id"].map(index)
    keep = labs["date"].notna() & start.notna() & (labs["date"] <= start)
    if window_days is not None:
        keep &= labs["date"] >= start - pd.Timedelta(days=window_days)
    chosen = labs[keep].sort_values(["patient_id", "test", "date", "source_row"], kind="stable")
    return chosen.groupby(["patient_id", "test"], sort=False).tail(1)


def _baseline_arrays(
    labs: pd.DataFrame,
    baseline: pd.DataFrame | None,
    sex_by_patient: Mapping[str, str] | pd.Series,
    s: CtcaeSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline value (grading unit) and 'baseline above ULN' aligned with `labs` rows."""
    n = len(labs)
    if baseline is None or baseline.empty:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    dup = baseline.duplicated(["patient_id", "test"], keep=False)
    if dup.any():
        rows = ", ".join(str(r) for r in baseline.loc[dup, "source_row"].head(10))
        raise LabGradingError(f"more than one baseline per patient and test (rows {rows})")
    values = np.full(len(baseline), np.nan)
    abnormal = np.zeros(len(baseline), dtype=bool)
    problems: list[UnitProblem] = []
    for test, idx in baseline.groupby("test", sort=False).indices.items():
        part = baseline.iloc[idx]
        if str(test) not in _units():
            continue
        _, factor, bad = _unit_lookup(str(test), part["unit"], part["source_row"])
        problems.extend(bad)
        si = _numeric(part, "value") * factor
        uln = _numeric(part, "uln") * factor
        if s.missing_limit == "default":
            fallback = _defaults(str(test), "uln", _sex_array(part["patient_id"], sex_by_patient))
            uln = np.where(np.isnan(uln), fallback, uln)
        values[idx] = si
        digits = s.significant_digits
        abnormal[idx] = _compare(_signif(si, digits), ">", _signif(uln, digits))
    if problems:
        raise UnknownUnitError(problems)
    keys = pd.MultiIndex.from_frame(baseline[["patient_id", "test"]].astype(str))
    lookup = pd.DataFrame({"v": values, "a": abnormal.astype(float)}, index=keys)
    at = pd.MultiIndex.from_frame(labs[["patient_id", "test"]].astype(str))
    aligned = lookup.reindex(at)
    return aligned["v"].to_numpy(dtype=float), aligned["a"].to_numpy(dtype=float) == 1.0


def grade_labs(
    labs: pd.DataFrame,
    sex_by_patient: Mapping[str, str] | pd.Series,
    version: CtcaeVersion = "4.0",
    *,
    baseline: pd.DataFrame | None = None,
    settings: CtcaeSettings | None = None,
) -> pd.DataFrame:
    """Grade every lab row by CTCAE `version`; returns a copy of `labs` with graded columns.

    `labs` has the data-model columns (patient_id, date, test, value, unit, optional lln/uln,
    source_row). `sex_by_patient` maps patient_id to male/female (used only for default limits).
    `baseline` holds at most one row per (patient_id, test) with value, unit and optional uln
    (e.g. from `select_baseline`); it feeds the baseline-relative criteria.

    Added columns: ``term``; ``grade`` (nullable Int64: 0 = not an AE, <NA> = unknown);
    ``value_si`` and ``unit_si`` (value in the grading unit); ``lln_si``/``uln_si`` (limits used,
    grading unit); ``limit_source`` (row, default, missing or not_used: where the term's own
    limit came from); ``baseline_si``; ``ctcae_version``; ``flags`` (';'-separated).

    Raises `UnknownUnitError` for units not accepted for their test and `UnknownTestError` for
    tests without a CTCAE term; both list every offending row.
    """
    s = settings if settings is not None else CtcaeSettings()
    catalogue = _catalogue(version)
    n = len(labs)
    tests = labs["test"].astype("string").str.strip().str.lower()
    rows = labs["source_row"] if "source_row" in labs.columns else pd.Series(range(1, n + 1))
    unknown_tests = sorted(set(tests.dropna().unique()) - set(catalogue))
    if unknown_tests or tests.isna().any():
        bad = {
            str(t): [int(r) for r in rows[(tests == t).fillna(False).to_numpy()]]
            for t in unknown_tests
        }
        if tests.isna().any():
            bad["<blank>"] = [int(r) for r in rows[tests.isna().to_numpy()]]
        raise UnknownTestError(bad, sorted(catalogue))

    out = labs.copy()
    term = np.empty(n, dtype=object)
    grade = np.full(n, np.nan)
    value_si = np.full(n, np.nan)
    unit_si = np.empty(n, dtype=object)
    lln_si = np.full(n, np.nan)
    uln_si = np.full(n, np.nan)
    limit_source = np.empty(n, dtype=object)
    flags = pd.Series("", index=range(n), dtype=object)
    if baseline is not None:
        baseline = baseline.assign(test=baseline["test"].astype("string").str.strip().str.lower())
    base_si, base_abnormal = _baseline_arrays(labs.assign(test=tests), baseline, sex_by_patient, s)
    sexes = _sex_array(labs["patient_id"], sex_by_patient)
    values = _numeric(labs, "value")
    row_limits = {"lln": _numeric(labs, "lln"), "uln": _numeric(labs, "uln")}

    problems: list[UnitProblem] = []
    groups = pd.Series(np.arange(n)).groupby(tests.to_numpy(), sort=False).indices
    for test, idx in groups.items():
        test = str(test)
        names, factor, unit_problems = _unit_lookup(test, labs["unit"].iloc[idx], rows.iloc[idx])
        if unit_problems:
            problems.extend(unit_problems)
            continue
        limits: dict[str, np.ndarray] = {}
        from_row: dict[str, np.ndarray] = {}
        for kind in ("lln", "uln"):
            given = row_limits[kind][idx] * factor
            from_row[kind] = ~np.isnan(given)
            if s.missing_limit == "default":
                given = np.where(from_row[kind], given, _defaults(test, kind, sexes[idx]))
            limits[kind] = given
        prepared = _Prepared(
            unit_name=names,
            raw=values[idx],
            si=values[idx] * factor,
            limits=limits,
            baseline=base_si[idx],
            baseline_abnormal=base_abnormal[idx],
        )
        results = [(t, *_grade_term(t, prepared, s)) for t in catalogue[test]]
        scores = np.vstack([np.where(np.isnan(g), _UNKNOWN_SCORE, g) for _, g, _ in results])
        choice = np.argmax(scores, axis=0)  # ties: the first (low-direction) term
        for k, (t, g, term_flags) in enumerate(results):
            chosen = choice == k
            pos = idx[chosen]
            term[pos] = t.term
            grade[pos] = g[chosen]
            kind = t.limit_kind
            if t.uses_limit:
                src = np.where(
                    from_row[kind][chosen],
                    "row",
                    np.where(np.isnan(limits[kind][chosen]), "missing", "default"),
                )
            else:
                src = np.full(chosen.sum(), "not_used")
            limit_source[pos] = src
            for name, mask in term_flags:
                hit = pos[mask[chosen]]
                if len(hit):
                    flags.iloc[hit] = flags.iloc[hit] + ";" + name
        value_si[idx] = prepared.si
        unit_si[idx] = _units()[test].unit
        lln_si[idx] = limits["lln"]
        uln_si[idx] = limits["uln"]
    if problems:
        raise UnknownUnitError(problems)

    out["term"] = term
    out["grade"] = pd.Series(grade, index=out.index).astype("Int64")
    out["value_si"] = value_si
    out["unit_si"] = unit_si
    out["lln_si"] = lln_si
    out["uln_si"] = uln_si
    out["limit_source"] = limit_source
    out["baseline_si"] = base_si
    out["ctcae_version"] = version
    out["flags"] = flags.str.lstrip(";").to_numpy()
    return out


@dataclass(frozen=True)
class GradedValue:
    """One graded result (see `grade_value`)."""

    term: str
    grade: int | None
    value_si: float
    limit_source: str
    flags: tuple[str, ...]


def grade_value(
    test: str,
    value: float,
    unit: str,
    *,
    lln: float | None = None,
    uln: float | None = None,
    baseline: float | None = None,
    baseline_uln: float | None = None,
    sex: str | None = None,
    version: CtcaeVersion = "4.0",
    settings: CtcaeSettings | None = None,
) -> GradedValue:
    """Grade a single result (same rules as `grade_labs`).

    `baseline` is in the same `unit`; its ULN is `baseline_uln`, or `uln` when not given.
    """
    row = pd.DataFrame(
        {
            "patient_id": ["p"],
            "date": [pd.NaT],
            "test": [test],
            "value": [value],
            "unit": [unit],
            "lln": [math.nan if lln is None else lln],
            "uln": [math.nan if uln is None else uln],
            "source_row": [1],
        }
    )
    base = None
    if baseline is not None:
        base = row.assign(
            value=[baseline], uln=[row["uln"].iloc[0] if baseline_uln is None else baseline_uln]
        )
    sexes = {"p": sex} if sex is not None else {}
    graded = grade_labs(row, sexes, version, baseline=base, settings=settings).iloc[0]
    flags = tuple(f for f in str(graded["flags"]).split(";") if f)
    g = graded["grade"]
    return GradedValue(
        term=str(graded["term"]),
        grade=None if pd.isna(g) else int(g),
        value_si=float(graded["value_si"]),
        limit_source=str(graded["limit_source"]),
        flags=flags,
    )
