"""Builders for the study's tables, reading computed results (never recomputing statistics).

Percentages are formatted from counts and denominators (exact, rounded half up); confidence
limits, p values and hazard ratios are taken from the results as they are.

- :func:`resistance_table`   Table 1, the resistance definition as applied
- :func:`efficacy_table`     Table 2, best response, ORR and DCR with 95% CIs, both courses
- :func:`baseline_table`     Table 3, baseline characteristics (optionally by subgroup)
- :func:`adverse_event_table` Table 4, adverse events by phase, any grade and grade 3–4
- :func:`cox_table`          Cox models for one endpoint
- :func:`attrition_table`    patient selection, step by step
- :func:`build_tables`       every table the results allow
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from rechallenge.tables.model import (
    Cell,
    Row,
    Spanner,
    Table,
    data_row,
    group_row,
    n_pct,
    round_half_up,
)

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
CI_METHODS: Final[dict[str, str]] = {
    "clopper-pearson": "Clopper–Pearson (exact)",
    "wilson": "Wilson score",
}
FIRTH_MARK: Final[str] = "†"
DASH: Final[str] = "—"


def fmt_p(p: Any) -> str:
    """A p value for a table: ``0.011``, ``<0.001``, or an em dash when absent."""
    if p is None:
        return DASH
    return "<0.001" if float(p) < 0.001 else round_half_up(float(p), 3)


def fmt_num(x: Any, digits: int = 1) -> str:
    """A summary number: integers as they are, otherwise ``digits`` decimals."""
    if x is None:
        return DASH
    value = float(x)
    return str(int(value)) if value.is_integer() else round_half_up(value, digits)


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


def resistance_table(resistance: Mapping[str, Any]) -> Table:
    """Table 1: each criterion of the resistance definition, its source wording and use."""
    table = Table(
        id="table1_resistance",
        title="Table 1. Definition of acquired immune resistance, as applied",
        columns=("Criterion", "Source wording", "Applied as"),
        align=("left", "left", "left"),
    )
    rows = [
        data_row(c.get("criterion"), c.get("wording"), c.get("applied_as"))
        for c in resistance.get("criteria", [])
    ]
    return table.with_rows(*rows).with_footnotes(
        f"Definition: {_definition_name(resistance.get('definition'))}."
    )


# --- Table 2 -------------------------------------------------------------------------------


def _efficacy_rows(courses: Sequence[Mapping[str, Any]]) -> list[Row]:
    width = 1 + len(courses)
    rows = [group_row("Best overall response, n (%)", width)]
    for code, name in RESPONSES:
        cells = [n_pct(int(c["bor"].get(code, 0)), int(c["n"])) for c in courses]
        rows.append(data_row(f"{name} ({code})", *cells, indent=1))
    for key, label, codes in (
        ("orr", "Objective response rate (CR + PR), n (%)", ("CR", "PR")),
        ("dcr", "Disease control rate (CR + PR + SD), n (%)", ("CR", "PR", "SD")),
    ):
        counts = [sum(int(c["bor"].get(k, 0)) for k in codes) for c in courses]
        pct = [n_pct(x, int(c["n"])) for x, c in zip(counts, courses, strict=True)]
        rows.append(data_row(label, *pct))
        rows.append(data_row("95% CI, %", *(fmt_ci_pct(c.get(key)) for c in courses), indent=1))
    return rows


def _efficacy_notes(
    courses: Mapping[str, Mapping[str, Any]], methods: Mapping[str, Any] | None
) -> list[str]:
    m = methods or {}
    confirmed = "with" if m.get("bor_confirmation") else "without"
    notes = [
        f"Response by {_criterion(m.get('response_criterion', 'recist1.1'))}; best overall "
        f"response {confirmed} confirmation. Percentages of the patients in each course."
    ]
    ci_methods = {
        str((c.get(k) or {}).get("method")) for c in courses.values() for k in ("orr", "dcr")
    } - {"None"}
    if ci_methods:
        names = ", ".join(CI_METHODS.get(x, x) for x in sorted(ci_methods))
        notes.append(f"95% confidence intervals by the {names} method.")
    for course, c in courses.items():
        src = c.get("source") or {}
        if src.get("investigator"):
            notes.append(
                f"{COURSES.get(course, course)}: best response from investigator assessment "
                f"for {src['investigator']} of {c['n']} patients, RECIST measurements for "
                f"{src.get('recist', 0)}."
            )
    return notes


def _criterion(code: Any) -> str:
    return {"recist1.1": "RECIST 1.1", "irecist": "iRECIST"}.get(str(code), str(code))


def efficacy_table(efficacy: Mapping[str, Any], methods: Mapping[str, Any] | None = None) -> Table:
    """Table 2: BOR n (%), ORR and DCR with 95% CIs for each course present."""
    courses = {k: efficacy[k] for k in COURSES if isinstance(efficacy.get(k), Mapping)}
    if not courses:
        raise ValueError("efficacy results contain neither course")
    columns = ("Response", *(f"{COURSES[k]} (n = {c['n']})" for k, c in courses.items()))
    table = Table(
        id="table2_efficacy",
        title="Table 2. Efficacy of the initial ICI course and of ICI rechallenge",
        columns=columns,
    )
    return table.with_rows(*_efficacy_rows(list(courses.values()))).with_footnotes(
        *_efficacy_notes(courses, methods)
    )


# --- Table 3 -------------------------------------------------------------------------------


def _continuous_rows(
    rows: Sequence[Mapping[str, Any]], groups: Sequence[str], test: Mapping[str, Any] | None
) -> list[Row]:
    r = rows[0]

    def iqr(d: Mapping[str, Any]) -> str:
        if d.get("median") is None:
            return DASH
        return f"{fmt_num(d['median'])} ({fmt_num(d.get('q1'))}–{fmt_num(d.get('q3'))})"

    grp = r.get("groups") or {}
    extra = [test.get("p") if test else None, test.get("test") if test else None]
    out = [
        data_row(
            f"{r.get('label', r['variable'])}, median (IQR)",
            iqr(r),
            *(iqr(grp.get(g) or {}) for g in groups),
            *([fmt_p(extra[0]), extra[1] or DASH] if groups else []),
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
        out.append(data_row("Missing, n", str(r["n_missing"]), *blanks, indent=1))
    return out


def _categorical_rows(
    rows: Sequence[Mapping[str, Any]],
    n_total: int,
    groups: Sequence[str],
    group_n: Mapping[str, Any],
    test: Mapping[str, Any] | None,
) -> list[Row]:
    first = rows[0]
    head_extra = [fmt_p(test.get("p")) if test else DASH, test.get("test", DASH) if test else DASH]
    out = [
        data_row(
            f"{first.get('label', first['variable'])}, n (%)",
            "",
            *([""] * len(groups)),
            *(head_extra if groups else []),
        )
    ]
    for r in rows:
        level = str(r.get("level_label") or r.get("level"))
        by = r.get("groups") or {}
        cells = [
            n_pct(int(by[g]["n"]), int(group_n[g])) if g in by and g in group_n else DASH
            for g in groups
        ]
        out.append(
            data_row(
                level, n_pct(int(r["n"]), n_total), *cells, *(["", ""] if groups else []), indent=1
            )
        )
    return out


def baseline_table(baseline: Mapping[str, Any]) -> Table:
    """Table 3: baseline characteristics, with subgroup columns and tests when compared."""
    n_total = int(baseline["n"])
    comp = baseline.get("comparison") or None
    groups: list[str] = [str(g) for g in comp.get("groups", [])] if comp else []
    group_n = (comp or {}).get("group_n") or {}
    labels = (comp or {}).get("group_labels") or groups
    columns: list[str] = ["Characteristic", f"All patients (n = {n_total})"]
    columns += [
        f"{lab} (n = {group_n[g]})" if g in group_n else str(lab)
        for g, lab in zip(groups, labels, strict=False)
    ]
    if groups:
        columns += ["p", "Test"]
    tests = {t.get("variable"): t for t in (comp or {}).get("tests", [])}
    body: list[Row] = []
    for variable, rows in _by_variable(baseline.get("rows", [])):
        test = tests.get(variable)
        if rows[0].get("kind") == "continuous":
            body += _continuous_rows(rows, groups, test)
        else:
            body += _categorical_rows(rows, n_total, groups, group_n, test)
    spanners: tuple[Spanner, ...] = ()
    if groups:
        by_label = str(comp.get("label") or comp.get("by")) if comp else ""
        spanners = (Spanner(by_label, 2, 2 + len(groups)),)
    table = Table(
        id="table3_baseline",
        title="Table 3. Baseline characteristics of the patients",
        columns=tuple(columns),
        rows=tuple(body),
        spanners=spanners,
    )
    notes = [
        "Values are n (%) unless stated otherwise; percentages of the column total, "
        "rounded half up to one decimal. IQR, interquartile range; SD, standard deviation."
    ]
    if groups:
        notes.append("p values are two-sided, from the test named in each row.")
    return table.with_footnotes(*notes)


def _by_variable(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Rows grouped by variable, in first-appearance order."""
    order: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        order.setdefault(str(r["variable"]), []).append(r)
    return list(order.items())


# --- Table 4 -------------------------------------------------------------------------------


def adverse_event_table(
    adverse_events: Mapping[str, Any], methods: Mapping[str, Any] | None = None
) -> Table:
    """Table 4: adverse events per phase, any grade and grade 3–4, n (%) of patients."""
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
        columns += ["Any grade", "Grade 3–4"]
        spanners.append(Spanner(f"{COURSES[p]} (n = {denominators[p]})", 1 + 2 * i, 3 + 2 * i))
    rows = []
    for term in terms:
        cells: list[str] = []
        for p in phases:
            rec = by_phase[p].get(term, {})
            d = int(denominators[p])
            cells += [
                n_pct(int(rec.get("any_grade", 0)), d),
                n_pct(int(rec.get("grade_3_4", 0)), d),
            ]
        rows.append(data_row(term, *cells))
    version = (methods or {}).get("ctcae_version")
    notes = [
        f"Graded by NCI-CTCAE{' v' + str(version) if version else ''}; n (%) of patients with "
        "at least one event of the term in the phase (a patient counts once per term, at the "
        "worst grade). A term not reported in a phase is shown as 0."
    ]
    g5 = [
        f"{r['term']} ({COURSES[p].lower()}, {r['grade_5']})"
        for p in phases
        for r in adverse_events[p]
        if int(r.get("grade_5", 0))
    ]
    notes.append("Grade 5 events: " + "; ".join(g5) + "." if g5 else "No grade 5 events.")
    return Table(
        id="table4_adverse_events",
        title="Table 4. Adverse events by treatment phase and grade",
        columns=tuple(columns),
        rows=tuple(rows),
        spanners=tuple(spanners),
    ).with_footnotes(*notes)


# --- Cox -----------------------------------------------------------------------------------


def _hr_text(row: Mapping[str, Any] | None) -> str:
    if row is None or row.get("hr") is None:
        return DASH

    def two(x: Any) -> str:
        return DASH if x is None else round_half_up(float(x), 2)

    mark = FIRTH_MARK if row.get("firth") else ""
    return f"{two(row['hr'])} ({two(row.get('lower'))}–{two(row.get('upper'))}){mark}"


def cox_table(rows: Sequence[Mapping[str, Any]], endpoint: str = "PFSR") -> Table:
    """Cox models for ``endpoint``: univariable and multivariable HRs side by side."""
    uni = {r["term"]: r for r in rows if r.get("model", "univariable") == "univariable"}
    multi = {r["term"]: r for r in rows if r.get("model") == "multivariable"}
    terms = list(uni) + [t for t in multi if t not in uni]
    body = []
    for term in terms:
        u, m = uni.get(term), multi.get(term)
        ref = u or m or {}
        body.append(
            data_row(
                str(ref.get("label") or term),
                Cell.number(int(u["n"])) if u and u.get("n") is not None else DASH,
                Cell.number(int(u["events"])) if u and u.get("events") is not None else DASH,
                _hr_text(u),
                fmt_p(u.get("p")) if u else DASH,
                _hr_text(m),
                fmt_p(m.get("p")) if m else DASH,
            )
        )
    tests = sorted({str(r["test"]) for r in rows if r.get("test")})
    notes = [
        "HR, hazard ratio; CI, confidence interval; two-sided p values"
        + (f" ({', '.join(tests)} test)." if tests else ".")
    ]
    if multi:
        first = next(iter(multi.values()))
        notes.append(
            f"Multivariable model: {', '.join(str(r.get('label')) for r in multi.values())}; "
            f"n = {first.get('n')}, events = {first.get('events')}."
        )
    ties = sorted({str(r.get("ties")) for r in rows if r.get("ties")})
    if ties:
        notes.append(f"Ties handled by the {', '.join(t.capitalize() for t in ties)} method.")
    if any(r.get("firth") for r in rows):
        notes.append(f"{FIRTH_MARK} Firth penalised-likelihood estimate (sparse events).")
    return Table(
        id=f"table_cox_{endpoint.lower()}",
        title=f"Cox proportional-hazards regression for {endpoint}",
        columns=("Variable", "n", "Events", "HR (95% CI)", "p", "HR (95% CI)", "p"),
        rows=tuple(body),
        spanners=(Spanner("Univariable", 1, 5), Spanner("Multivariable", 5, 7)),
    ).with_footnotes(*notes)


# --- Attrition -----------------------------------------------------------------------------


def attrition_table(cohort: Mapping[str, Any]) -> Table:
    """Patient selection: each criterion in order with counts before, excluded and remaining."""
    body = [
        data_row(
            Cell.number(i),
            str(s.get("description") or s.get("criterion")),
            str(s.get("kind", "")).capitalize(),
            Cell.number(int(s["before"])),
            Cell.number(int(s["excluded"])),
            Cell.number(int(s["remaining"])),
        )
        for i, s in enumerate(cohort.get("attrition", []), start=1)
    ]
    return Table(
        id="table_attrition",
        title="Patient selection",
        columns=("Step", "Criterion", "Type", "Before", "Excluded", "Remaining"),
        rows=tuple(body),
        align=("center", "left", "left", "center", "center", "center"),
    ).with_footnotes(
        f"Screened: {cohort.get('screened')}; included: {cohort.get('included')}. "
        "Criteria applied in the order shown."
    )


# --- All -----------------------------------------------------------------------------------


def build_tables(results: Mapping[str, Any]) -> dict[str, Table]:
    """Every table the results allow, keyed by table id, in report order."""
    methods = results.get("methods")
    out: list[Table] = []
    if isinstance(results.get("cohort"), Mapping) and results["cohort"].get("attrition"):
        out.append(attrition_table(results["cohort"]))
    if isinstance(results.get("resistance"), Mapping):
        out.append(resistance_table(results["resistance"]))
    if isinstance(results.get("efficacy"), Mapping):
        out.append(efficacy_table(results["efficacy"], methods))
    if isinstance(results.get("baseline"), Mapping):
        out.append(baseline_table(results["baseline"]))
    if isinstance(results.get("adverse_events"), Mapping):
        out.append(adverse_event_table(results["adverse_events"], methods))
    for endpoint, rows in (results.get("cox") or {}).items():
        if rows:
            out.append(cox_table(rows, endpoint))
    return {t.id: t for t in out}
