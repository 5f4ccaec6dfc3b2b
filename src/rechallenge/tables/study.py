"""Builders for the study's tables, reading computed results (never recomputing statistics).

Percentages are formatted from counts and denominators (exact, rounded half up); confidence
limits, p values and hazard ratios are taken from the results as they are.

- :func:`resistance_table`   Table 1, the resistance definition as applied
- :func:`efficacy_table`     Table 2, best response, ORR and DCR with 95% CIs, both courses
- :func:`baseline_table`     Table 3, baseline characteristics (optionally by subgroup)
- :func:`adverse_event_table` Table 4, adverse events by phase, any grade and grade 3–4
- :func:`survival_table`     Table 5, Kaplan–Meier medians and landmark rates, follow-up
- :func:`cox_table`          Cox models for one endpoint (gtsummary style)
- :func:`attrition_table`    patient selection, step by step, in CONSORT wording
- :func:`build_tables`       every table the results allow

Every word a reader sees comes from the label catalogue (:mod:`rechallenge.labels`) or from
readable text in the results; a code is never printed. Each table carries a data sheet of
the unrounded values behind it, and, when ``output.small_cell_threshold`` is set, counts
from 1 to the threshold are suppressed (see :mod:`rechallenge.tables.common`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from rechallenge.labels import labels_from_results
from rechallenge.tables.common import (
    DASH,
    Context,
    fmt_num,
    fmt_p,
    human,
    p_cell,
    page_size,
    sentence,
    small_cell_threshold,
)
from rechallenge.tables.competing import competing_table
from rechallenge.tables.context import context_table
from rechallenge.tables.cox import FIRTH_MARK, cox_table, table_terms
from rechallenge.tables.model import (
    Cell,
    DataSheet,
    DataValue,
    Row,
    Spanner,
    Table,
    data_row,
    group_row,
    round_half_up,
)
from rechallenge.tables.prognostic import prognostic_tables
from rechallenge.tables.survival import has_curves, survival_table

DEFINITIONS: Final[dict[str, str]] = {
    "schoenfeld2021": "Schoenfeld et al., Ann Oncol 2021;32:1597–1607 (SITC/IASLC consensus)",
    "kluger2020": "Kluger et al., J Immunother Cancer 2020;8:e000398 (SITC taskforce)",
}
RESPONSES: Final[tuple[tuple[str, str], ...]] = (
    ("CR", "Complete response"),
    ("PR", "Partial response"),
    ("SD", "Stable disease"),
    ("PD", "Progressive disease"),
    ("NE", "Not evaluable"),
)
COURSES: Final[dict[str, str]] = {"initial": "Initial ICI", "rechallenge": "Rechallenge"}
CODES_IN_TEXT: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\brecist1\.1\b", re.IGNORECASE), "RECIST 1.1"),
    (re.compile(r"\birecist\b", re.IGNORECASE), "iRECIST"),
)


def readable(text: Any) -> str:
    """Free text from the results with known method codes in words (``recist1.1``)."""
    out = "" if text is None else str(text)
    for pattern, words in CODES_IN_TEXT:
        out = pattern.sub(words, out)
    return out


def fmt_ci_pct(est: Mapping[str, Any] | None) -> str:
    """``31.6–86.1`` from a proportion's lower/upper limits (fractions) in the results."""
    if not est or est.get("lower") is None or est.get("upper") is None:
        return DASH
    lo = round_half_up(float(est["lower"]) * 100, 1)
    hi = round_half_up(float(est["upper"]) * 100, 1)
    return f"{lo}–{hi}"


def _definition_name(code: Any) -> str:
    return DEFINITIONS.get(str(code), str(code))


# --- Table 1 -------------------------------------------------------------------------------


def resistance_table(resistance: Mapping[str, Any], ctx: Context | None = None) -> Table:
    """Table 1: each criterion of the resistance definition, its source wording and use."""
    ctx = ctx or Context()
    table = Table(
        id="table1_resistance",
        title="Table 1. Definition of acquired immune resistance, as applied",
        columns=("Criterion", "Source wording", "Applied as"),
        align=("left", "left", "left"),
    )
    rows = [
        data_row(
            readable(c.get("criterion")), readable(c.get("wording")), readable(c.get("applied_as"))
        )
        for c in resistance.get("criteria", [])
    ]
    code = str(resistance.get("definition"))
    definition = ctx.labels.get("method", f"resistance_definition.{code}", default="")
    words = sentence(definition) if definition else _definition_name(code)
    sheet = DataSheet(
        columns=("Criterion", "Source wording", "Applied as"),
        rows=tuple(tuple(c.text for c in r.cells) for r in rows),
    )
    return table.with_rows(*rows).with_footnotes(f"Definition: {words}.").with_data(sheet)


# --- Table 2 -------------------------------------------------------------------------------


RATES: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("orr", "Objective response rate (CR + PR), n (%)", ("CR", "PR")),
    ("dcr", "Disease control rate (CR + PR + SD), n (%)", ("CR", "PR", "SD")),
)


def _ci_cell(est: Mapping[str, Any] | None, count: int, ctx: Context) -> str:
    return DASH if ctx.suppressed(count) else fmt_ci_pct(est)


def _efficacy_rows(courses: Sequence[Mapping[str, Any]], ctx: Context) -> list[Row]:
    width = 1 + len(courses)
    rows = [group_row("Best overall response, n (%)", width)]
    for code, name in RESPONSES:
        label = ctx.labels.get("response", code, default=name)
        cells = [ctx.n_pct(int(c["bor"].get(code, 0)), int(c["n"])) for c in courses]
        rows.append(data_row(f"{label} ({code})", *cells, indent=1))
    for key, label, codes in RATES:
        counts = [sum(int(c["bor"].get(k, 0)) for k in codes) for c in courses]
        pct = [ctx.n_pct(x, int(c["n"])) for x, c in zip(counts, courses, strict=True)]
        rows.append(data_row(label, *pct))
        cis = [_ci_cell(c.get(key), x, ctx) for x, c in zip(counts, courses, strict=True)]
        rows.append(data_row("95% CI, %", *cis, indent=1))
    return rows


def _efficacy_data(courses: Mapping[str, Mapping[str, Any]], ctx: Context) -> DataSheet:
    out: list[tuple[DataValue, ...]] = []
    for course, c in courses.items():
        name = _course(course, ctx)
        d = int(c["n"])
        for code, label in RESPONSES:
            n = int(c["bor"].get(code, 0))
            out.append(
                (name, label, ctx.data_count(n), d, ctx.data_percent(n, d), None, None, None)
            )
        for key, label, codes in RATES:
            n = sum(int(c["bor"].get(k, 0)) for k in codes)
            est = c.get(key) or {}
            hide = ctx.suppressed(n)
            lo, hi = est.get("lower"), est.get("upper")
            method = est.get("method")
            out.append(
                (
                    name,
                    label.removesuffix(", n (%)"),
                    ctx.data_count(n),
                    d,
                    ctx.data_percent(n, d),
                    None if hide or lo is None else 100 * float(lo),
                    None if hide or hi is None else 100 * float(hi),
                    ctx.labels.method("proportion_ci", method) if method else None,
                )
            )
    return DataSheet(
        columns=(
            "Course",
            "Category",
            "n",
            "Denominator",
            "Percent",
            "Lower 95% limit, %",
            "Upper 95% limit, %",
            "CI method",
        ),
        rows=tuple(out),
    )


def _ci_code(method: str) -> str:
    """The configuration code of a proportion CI method named in words or as a code."""
    lowered = method.lower()
    for code in ("clopper-pearson", "wilson"):
        if lowered.replace("–", "-").startswith(code):
            return code
    return method


def _course(code: str, ctx: Context) -> str:
    return ctx.labels.get("course", code, default=COURSES.get(code, code))


def _efficacy_notes(
    courses: Mapping[str, Mapping[str, Any]], methods: Mapping[str, Any] | None, ctx: Context
) -> list[str]:
    m = methods or {}
    labels = ctx.labels
    criterion = labels.method("response_criterion", m.get("response_criterion", "recist1.1"))
    confirmation = labels.method("bor_confirmation", bool(m.get("bor_confirmation")))
    notes = [
        f"Response by {criterion}; {confirmation}. Percentages of the patients in each course."
    ]
    ci_methods = {
        str((c.get(k) or {}).get("method")) for c in courses.values() for k in ("orr", "dcr")
    } - {"None"}
    if ci_methods:
        names = "; ".join(sorted({labels.method("proportion_ci", _ci_code(x)) for x in ci_methods}))
        notes.append(f"95% confidence intervals (CI): {names}.")
    for course, c in courses.items():
        src = c.get("source") or {}
        if src.get("investigator"):
            notes.append(
                f"{_course(course, ctx)}: best response from investigator assessment "
                f"for {ctx.count(int(src['investigator'])).text} of {c['n']} patients, from "
                f"RECIST measurements for {ctx.count(int(src.get('recist', 0))).text}."
            )
    if ctx.small_cell is not None:
        notes.append(ctx.note())
    return notes


def efficacy_table(
    efficacy: Mapping[str, Any],
    methods: Mapping[str, Any] | None = None,
    ctx: Context | None = None,
) -> Table:
    """Table 2: BOR n (%), ORR and DCR with 95% CIs for each course present."""
    ctx = ctx or Context()
    courses = {k: efficacy[k] for k in COURSES if isinstance(efficacy.get(k), Mapping)}
    if not courses:
        raise ValueError("efficacy results contain neither course")
    columns = ("Response", *(f"{_course(k, ctx)} (n = {c['n']})" for k, c in courses.items()))
    table = Table(
        id="table2_efficacy",
        title="Table 2. Efficacy of the first ICI course and of ICI rechallenge",
        columns=columns,
        data=_efficacy_data(courses, ctx),
    )
    return table.with_rows(*_efficacy_rows(list(courses.values()), ctx)).with_footnotes(
        *_efficacy_notes(courses, methods, ctx)
    )


# --- Table 3 -------------------------------------------------------------------------------


def _iqr(d: Mapping[str, Any]) -> str:
    if d.get("median") is None:
        return DASH
    return f"{fmt_num(d['median'])} ({fmt_num(d.get('q1'))}–{fmt_num(d.get('q3'))})"


def _variable_label(r: Mapping[str, Any], ctx: Context) -> str:
    return human(r.get("label"), ctx.labels.variable(str(r["variable"])))


def _test_name(test: Mapping[str, Any] | None, ctx: Context) -> str:
    if not test or not test.get("test"):
        return DASH
    return human(test["test"], ctx.labels.method("test", test["test"]))


def _continuous_rows(
    rows: Sequence[Mapping[str, Any]],
    groups: Sequence[str],
    test: Mapping[str, Any] | None,
    ctx: Context,
) -> list[Row]:
    r = rows[0]
    grp = r.get("groups") or {}
    extra: list[Cell | str] = [p_cell(test.get("p")) if test else Cell(DASH), _test_name(test, ctx)]
    out = [
        data_row(
            f"{_variable_label(r, ctx)}, median (IQR)",
            _iqr(r),
            *(_iqr(grp.get(g) or {}) for g in groups),
            *(extra if groups else []),
        )
    ]
    blanks = [""] * (len(groups) + (2 if groups else 0))
    out.append(
        data_row("Range", f"{fmt_num(r.get('min'))}–{fmt_num(r.get('max'))}", *blanks, indent=1)
    )
    if r.get("mean") is not None:
        out.append(
            data_row(
                "Mean ± SD", f"{fmt_num(r['mean'])} ± {fmt_num(r.get('sd'))}", *blanks, indent=1
            )
        )
    if r.get("n_missing"):
        missing = ctx.count(int(r["n_missing"]))
        out.append(data_row("Missing, n", missing, *blanks, indent=1))
    return out


def _level_label(r: Mapping[str, Any], ctx: Context) -> str:
    fallback = ctx.labels.level(str(r["variable"]), r.get("level"))
    return human(r.get("level_label"), fallback)


def _categorical_rows(
    rows: Sequence[Mapping[str, Any]],
    n_total: int,
    groups: Sequence[str],
    group_n: Mapping[str, Any],
    test: Mapping[str, Any] | None,
    ctx: Context,
) -> list[Row]:
    first = rows[0]
    head_extra: list[Cell | str] = [
        p_cell(test.get("p")) if test else Cell(DASH),
        _test_name(test, ctx),
    ]
    out = [
        data_row(
            f"{_variable_label(first, ctx)}, n (%)",
            "",
            *([""] * len(groups)),
            *(head_extra if groups else []),
        )
    ]
    for r in rows:
        by = r.get("groups") or {}
        cells = [
            ctx.n_pct(int(by[g]["n"]), int(group_n[g])) if g in by and g in group_n else DASH
            for g in groups
        ]
        out.append(
            data_row(
                _level_label(r, ctx),
                ctx.n_pct(int(r["n"]), n_total),
                *cells,
                *(["", ""] if groups else []),
                indent=1,
            )
        )
    return out


def _baseline_data(
    baseline: Mapping[str, Any],
    groups: Sequence[str],
    group_names: Mapping[str, str],
    group_n: Mapping[str, Any],
    ctx: Context,
) -> DataSheet:
    n_total = int(baseline["n"])
    tests = {t.get("variable"): t for t in ((baseline.get("comparison") or {}).get("tests") or [])}
    out: list[tuple[DataValue, ...]] = []
    for r in baseline.get("rows", []):
        test = tests.get(r.get("variable")) or {}
        label = _variable_label(r, ctx)
        cells: list[tuple[str, Mapping[str, Any], int | None]] = [("All patients", r, n_total)]
        cells += [
            (group_names.get(g, g), (r.get("groups") or {}).get(g) or {}, group_n.get(g))
            for g in groups
        ]
        for group, d, denominator in cells:
            if r.get("kind") == "continuous":
                out.append(
                    (
                        label,
                        None,
                        group,
                        None,
                        denominator,
                        None,
                        d.get("median"),
                        d.get("q1"),
                        d.get("q3"),
                        d.get("min"),
                        d.get("max"),
                        d.get("mean"),
                        d.get("sd"),
                        test.get("p"),
                    )
                )
            elif d.get("n") is not None:
                n = int(d["n"])
                den = int(denominator) if denominator is not None else 0
                out.append(
                    (
                        label,
                        _level_label(r, ctx),
                        group,
                        ctx.data_count(n),
                        denominator,
                        ctx.data_percent(n, den),
                        *([None] * 7),
                        test.get("p"),
                    )
                )
    columns = (
        "Characteristic",
        "Level",
        "Group",
        "n",
        "Denominator",
        "Percent",
        "Median",
        "First quartile",
        "Third quartile",
        "Minimum",
        "Maximum",
        "Mean",
        "Standard deviation",
        "p",
    )
    return DataSheet(columns=columns, rows=tuple(out))


def baseline_table(baseline: Mapping[str, Any], ctx: Context | None = None) -> Table:
    """Table 3: baseline characteristics, with subgroup columns and tests when compared."""
    ctx = ctx or Context()
    n_total = int(baseline["n"])
    comp = baseline.get("comparison") or None
    groups: list[str] = [str(g) for g in comp.get("groups", [])] if comp else []
    group_n = (comp or {}).get("group_n") or {}
    by = str((comp or {}).get("by") or "")
    labels = [
        human(lab, ctx.labels.level(by, g))
        for g, lab in zip(groups, (comp or {}).get("group_labels") or groups, strict=False)
    ]
    columns: list[str] = ["Characteristic", f"All patients (n = {n_total})"]
    columns += [
        f"{lab} (n = {group_n[g]})" if g in group_n else lab
        for g, lab in zip(groups, labels, strict=False)
    ]
    if groups:
        columns += ["p", "Test"]
    tests = {t.get("variable"): t for t in (comp or {}).get("tests", [])}
    body: list[Row] = []
    for variable, rows in _by_variable(baseline.get("rows", [])):
        test = tests.get(variable)
        if rows[0].get("kind") == "continuous":
            body += _continuous_rows(rows, groups, test, ctx)
        else:
            body += _categorical_rows(rows, n_total, groups, group_n, test, ctx)
    spanners: tuple[Spanner, ...] = ()
    if groups:
        by_label = human(comp.get("label") if comp else None, ctx.labels.variable(by))
        spanners = (Spanner(by_label, 2, 2 + len(groups)),)
    table = Table(
        id="table3_baseline",
        title="Table 3. Baseline characteristics of the patients",
        columns=tuple(columns),
        rows=tuple(body),
        spanners=spanners,
        data=_baseline_data(
            baseline, groups, dict(zip(groups, labels, strict=False)), group_n, ctx
        ),
    )
    notes = [
        "Values are n (%) unless stated otherwise; percentages of the column total, "
        "rounded half up to one decimal. IQR, interquartile range; SD, standard deviation."
    ]
    if groups:
        notes.append("p values are two-sided, from the test named in each row.")
    if ctx.small_cell is not None:
        notes.append(ctx.note())
    return table.with_footnotes(*notes)


def _by_variable(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Rows grouped by variable, in first-appearance order."""
    order: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        order.setdefault(str(r["variable"]), []).append(r)
    return list(order.items())


# --- Table 4 -------------------------------------------------------------------------------

GRADES: Final[tuple[tuple[str, str], ...]] = (
    ("any_grade", "Any grade"),
    ("grade_3_4", "Grade 3–4"),
)


def _ae_data(
    by_phase: Mapping[str, Mapping[str, Mapping[str, Any]]],
    terms: Sequence[str],
    denominators: Mapping[str, Any],
    ctx: Context,
) -> DataSheet:
    out: list[tuple[DataValue, ...]] = []
    for term in terms:
        for phase, rows in by_phase.items():
            rec = rows.get(term, {})
            d = int(denominators[phase])
            for key, grade in (*GRADES, ("grade_5", "Grade 5")):
                n = int(rec.get(key, 0))
                out.append(
                    (term, _course(phase, ctx), grade, ctx.data_count(n), d, ctx.data_percent(n, d))
                )
    return DataSheet(
        columns=("Adverse event", "Phase", "Grade", "n", "Denominator", "Percent"),
        rows=tuple(out),
    )


def adverse_event_table(
    adverse_events: Mapping[str, Any],
    methods: Mapping[str, Any] | None = None,
    ctx: Context | None = None,
) -> Table:
    """Table 4: adverse events per phase, any grade and grade 3–4, n (%) of patients."""
    ctx = ctx or Context()
    denominators = adverse_events.get("n") or {}
    phases = [p for p in COURSES if isinstance(adverse_events.get(p), list) and p in denominators]
    if not phases:
        raise ValueError("adverse event results contain no phase with a denominator")
    by_phase = {p: {str(r["term"]): r for r in adverse_events[p]} for p in phases}
    terms = sorted(
        {t for rows in by_phase.values() for t in rows},
        key=lambda t: (-max(int(by_phase[p].get(t, {}).get("any_grade", 0)) for p in phases), t),
    )
    columns = ["Adverse event"]
    spanners = []
    for i, p in enumerate(phases):
        columns += [g for _, g in GRADES]
        spanners.append(Spanner(f"{_course(p, ctx)} (n = {denominators[p]})", 1 + 2 * i, 3 + 2 * i))
    rows = []
    for term in terms:
        cells: list[str] = []
        for p in phases:
            rec = by_phase[p].get(term, {})
            d = int(denominators[p])
            cells += [ctx.n_pct(int(rec.get(key, 0)), d) for key, _ in GRADES]
        rows.append(data_row(term, *cells))
    version = (methods or {}).get("ctcae_version")
    graded = ctx.labels.method("ctcae_version", version) if version else "NCI CTCAE"
    notes = [
        f"Graded by {graded}; n (%) of patients with at least one event of the term in the "
        "phase (a patient counts once per term, at the worst grade). A term not reported in a "
        "phase is shown as 0."
    ]
    g5 = [
        f"{r['term']} ({_course(p, ctx).lower()}, {ctx.count(int(r['grade_5'])).text})"
        for p in phases
        for r in adverse_events[p]
        if int(r.get("grade_5", 0))
    ]
    notes.append("Grade 5 events: " + "; ".join(g5) + "." if g5 else "No grade 5 events.")
    if ctx.small_cell is not None:
        notes.append(ctx.note())
    return Table(
        id="table4_adverse_events",
        title="Table 4. Adverse events by treatment phase and grade",
        columns=tuple(columns),
        rows=tuple(rows),
        spanners=tuple(spanners),
        data=_ae_data(by_phase, terms, denominators, ctx),
    ).with_footnotes(*notes)


# --- Cox -----------------------------------------------------------------------------------


def cox_table_terms(
    results: Mapping[str, Any], endpoint: str, model: str = "univariable", *, reference: bool = True
) -> list[str]:
    """The Cox table's term keys for ``endpoint`` and ``model``, in display order.

    One key per displayed level row (reference levels included unless ``reference`` is
    False), the same normalisation the table uses; a figure can compare its rows with it.
    """
    rows = (results.get("cox") or {}).get(endpoint) or []
    return table_terms(rows, model, reference=reference)


# --- Attrition -----------------------------------------------------------------------------


def _criterion_words(step: Mapping[str, Any], ctx: Context) -> str:
    code = str(step.get("criterion"))
    catalogue = ctx.labels.get("criterion", code, default="")
    fallback = readable(step.get("description")) or ctx.labels.criterion(code)
    return human(step.get("label"), "") or catalogue or human(fallback, ctx.labels.criterion(code))


def _failure_words(step: Mapping[str, Any], ctx: Context) -> str:
    """CONSORT wording: why the excluded patients left (the failure, not the criterion)."""
    code = str(step.get("criterion"))
    given = human(step.get("failure_label"), "")
    if given:
        return given
    catalogue = ctx.labels.get("failure", code, default="")
    if catalogue:
        return catalogue
    if step.get("kind") == "exclusion":
        return _criterion_words(step, ctx)
    return f"Not met: {_criterion_words(step, ctx)[:1].lower()}{_criterion_words(step, ctx)[1:]}"


def attrition_table(cohort: Mapping[str, Any], ctx: Context | None = None) -> Table:
    """Patient selection: each criterion in order, the reason for exclusion and the counts."""
    ctx = ctx or Context()
    steps = list(cohort.get("attrition", []))
    body: list[Row] = []
    data: list[tuple[DataValue, ...]] = []
    kind = None
    for i, s in enumerate(steps, start=1):
        if s.get("kind") != kind:
            kind = s.get("kind")
            heading = {"inclusion": "Inclusion criteria", "exclusion": "Exclusion criteria"}
            body.append(group_row(heading.get(str(kind), "Other criteria"), 6))
        criterion, failure = _criterion_words(s, ctx), _failure_words(s, ctx)
        body.append(
            data_row(
                Cell.number(i),
                criterion,
                failure,
                Cell.number(int(s["before"])),
                Cell.number(int(s["excluded"])),
                Cell.number(int(s["remaining"])),
            )
        )
        data.append(
            (i, criterion, failure, int(s["before"]), int(s["excluded"]), int(s["remaining"]))
        )
    columns = ("Step", "Criterion", "Reason for exclusion", "Before", "Excluded", "Remaining")
    return Table(
        id="table_attrition",
        title="Patient selection",
        columns=columns,
        rows=tuple(body),
        align=("center", "left", "left", "center", "center", "center"),
        data=DataSheet(columns=columns, rows=tuple(data)),
    ).with_footnotes(
        f"Screened: {cohort.get('screened')}; included: {cohort.get('included')}. Criteria "
        "applied in the order shown; a patient is counted once, at the first criterion not met.",
        *(
            [
                "Small-cell suppression is not applied to this table: each count follows "
                "from the counts beside it. Check it before sharing."
            ]
            if ctx.small_cell is not None
            else []
        ),
    )


# --- All -----------------------------------------------------------------------------------


def context_from_results(results: Mapping[str, Any]) -> Context:
    """Labels and small-cell threshold of the run that produced ``results``."""
    return Context(labels=labels_from_results(results), small_cell=small_cell_threshold(results))


def build_tables(results: Mapping[str, Any]) -> dict[str, Table]:
    """Every table the results allow, keyed by table id, in report order."""
    ctx = context_from_results(results)
    methods = results.get("methods")
    out: list[Table] = []
    if isinstance(results.get("cohort"), Mapping) and results["cohort"].get("attrition"):
        out.append(attrition_table(results["cohort"], ctx))
    if isinstance(results.get("resistance"), Mapping):
        out.append(resistance_table(results["resistance"], ctx))
    if isinstance(results.get("efficacy"), Mapping):
        out.append(efficacy_table(results["efficacy"], methods, ctx))
    if isinstance(results.get("baseline"), Mapping):
        out.append(baseline_table(results["baseline"], ctx))
    if isinstance(results.get("adverse_events"), Mapping):
        out.append(adverse_event_table(results["adverse_events"], methods, ctx))
    if has_curves(results.get("km")):
        out.append(survival_table(results, ctx))
    cox_models = results.get("cox_models") or {}
    for endpoint, rows in (results.get("cox") or {}).items():
        if rows:
            models = cox_models.get(endpoint) or [] if isinstance(cox_models, Mapping) else []
            out.append(cox_table(rows, endpoint, ctx, models))
    competing = results.get("competing_risks")
    if isinstance(competing, Mapping) and isinstance(competing.get("overall"), Mapping):
        out.append(competing_table(competing, ctx))
    if isinstance(results.get("context"), Mapping):
        out.append(context_table(results["context"]))
    if isinstance(results.get("prognostic"), Mapping):
        out += prognostic_tables(results["prognostic"], ctx.labels)
    size = page_size(results)
    return {t.id: t.with_page_size(size) for t in out}


__all__ = [
    "DASH",
    "DEFINITIONS",
    "FIRTH_MARK",
    "adverse_event_table",
    "attrition_table",
    "baseline_table",
    "build_tables",
    "context_from_results",
    "cox_table",
    "cox_table_terms",
    "efficacy_table",
    "fmt_ci_pct",
    "fmt_num",
    "fmt_p",
    "resistance_table",
    "round_half_up",
    "survival_table",
]
