"""The Cox regression table, gtsummary style, from ``results["cox"][endpoint]``.

Each variable is a heading row (its N, events and, for a factor with three or more levels,
the global likelihood-ratio p) with its levels beneath; the reference level shows "—". A
continuous variable is one row ("Age, years (per year)"). A Firth estimate is marked ``†``
and footnoted (penalised likelihood-ratio p, profile penalised-likelihood CI); a term
without an estimate says "Not estimable". Multivariable columns appear only when a
multivariable model was fitted; a model with fewer than 10 events per parameter is noted.

Two row formats are read. Schema 1.1 gives exactly one row per term and model, reference
rows included (``is_reference``). Older results list the ordinary row and the Firth row of a
monotone fit side by side and no reference rows: the ordinary row is dropped when a Firth
row for the same term exists, and reference rows are built from each row's ``reference``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from rechallenge.labels import Labels
from rechallenge.tables.common import (
    DASH,
    Context,
    fmt_p,
    human,
    p_cell,
    sentence,
)
from rechallenge.tables.model import Cell, DataSheet, DataValue, Row, Spanner, Table, round_half_up

FIRTH_MARK: Final[str] = "†"
NOT_ESTIMABLE: Final[str] = "Not estimable"
MODELS: Final[tuple[str, ...]] = ("univariable", "multivariable")
EPV_MIN: Final[int] = 10


@dataclass(frozen=True)
class Term:
    """One displayed term: its key, variable, labels and the row (None: built reference)."""

    term: str
    variable: str
    level: str
    is_reference: bool
    continuous: bool
    row: Mapping[str, Any]


def _continuous(row: Mapping[str, Any]) -> bool:
    level = str(row.get("level_label") or row.get("level") or "")
    reference = str(row.get("reference") or "")
    return level.startswith("per ") or reference == "" or reference.startswith("per ")


def _model_rows(rows: Sequence[Mapping[str, Any]], model: str) -> list[Mapping[str, Any]]:
    return [r for r in rows if str(r.get("model", "univariable")) == model]


def normalise_rows(rows: Sequence[Mapping[str, Any]], model: str) -> list[Term]:
    """The terms of ``model`` in display order, one per term, reference levels included."""
    selected = _model_rows(rows, model)
    if any("is_reference" in r for r in selected):
        return [
            Term(
                term=str(r.get("term")),
                variable=str(r.get("variable")),
                level=str(r.get("level")),
                is_reference=bool(r.get("is_reference")),
                continuous=not r.get("is_reference") and _continuous(r),
                row=r,
            )
            for r in selected
        ]
    return _normalise_old(selected)


def _normalise_old(selected: Sequence[Mapping[str, Any]]) -> list[Term]:
    """Schema 1.0 rows: one row per term (Firth preferred) and built reference rows."""
    firth_terms = {str(r.get("term")) for r in selected if r.get("firth")}
    chosen: dict[str, Mapping[str, Any]] = {}
    for r in selected:
        term = str(r.get("term"))
        if term in firth_terms and not r.get("firth"):
            continue
        chosen.setdefault(term, r)
    out: list[Term] = []
    seen: set[str] = set()
    for term, r in chosen.items():
        variable = str(r.get("variable"))
        continuous = _continuous(r)
        if variable not in seen and not continuous:
            reference = str(r.get("reference"))
            out.append(
                Term(
                    term=f"{variable}={reference}",
                    variable=variable,
                    level=reference,
                    is_reference=True,
                    continuous=False,
                    row={"variable": variable, "level": reference, "is_reference": True},
                )
            )
        seen.add(variable)
        out.append(Term(term, variable, str(r.get("level")), False, continuous, r))
    return out


def table_terms(rows: Sequence[Mapping[str, Any]], model: str, *, reference: bool) -> list[str]:
    """Term keys of ``model`` in display order (reference rows only when ``reference``)."""
    return [t.term for t in normalise_rows(rows, model) if reference or not t.is_reference]


def estimable(row: Mapping[str, Any]) -> bool:
    """True when the row carries a hazard ratio."""
    return row.get("estimable", True) is not False and row.get("hr") is not None


def _limit(x: Any) -> str:
    return DASH if x is None else round_half_up(float(x), 2)


def _estimate_cells(term: Term | None) -> list[Cell]:
    """HR, 95% CI and p cells for one term of one model."""
    if term is None:
        return [Cell(""), Cell(""), Cell("")]
    if term.is_reference:
        return [Cell(DASH), Cell(DASH), Cell("")]
    row = term.row
    if not estimable(row):
        return [Cell(NOT_ESTIMABLE), Cell(DASH), Cell(DASH)]
    mark = FIRTH_MARK if row.get("firth") else ""
    hr = Cell.number(float(row["hr"]), 2, suffix=mark)
    ci = Cell(f"{_limit(row.get('lower'))}–{_limit(row.get('upper'))}")
    return [hr, ci, p_cell(row.get("p"))]


def _level_label(term: Term, labels: Labels) -> str:
    if term.continuous:  # "per 10 years" stays lower case in "Age, years (per 10 years)"
        default = term.level if term.level.startswith("per ") else None
        fallback = labels.get("level", f"{term.variable}.{term.level}", default=default)
    else:
        fallback = labels.level(term.variable, term.level)
    return human(term.row.get("level_label"), fallback)


def _variable_label(term: Term, labels: Labels) -> str:
    return human(term.row.get("variable_label"), labels.variable(term.variable))


def _size_cells(term: Term | None, ctx: Context) -> list[Cell]:
    if term is None or term.row.get("n") is None:
        return [Cell(""), Cell("")]
    events = term.row.get("events")
    return [
        ctx.count(int(term.row["n"])),
        ctx.count(int(events)) if events is not None else Cell(""),
    ]


@dataclass(frozen=True)
class _Variable:
    name: str
    terms: list[str]
    by_model: dict[str, dict[str, Term]]


def _variables(models: Mapping[str, list[Term]]) -> list[_Variable]:
    """Variables in display order, each with its terms and the term rows of every model."""
    order: dict[str, _Variable] = {}
    for model, terms in models.items():
        for t in terms:
            var = order.setdefault(t.variable, _Variable(t.variable, [], {m: {} for m in models}))
            if t.term not in var.terms:
                var.terms.append(t.term)
            var.by_model[model][t.term] = t
    return list(order.values())


def _first_estimate(var: _Variable, model: str) -> Term | None:
    return next((t for t in var.by_model[model].values() if not t.is_reference), None)


def _variable_rows(var: _Variable, models: Sequence[str], ctx: Context) -> list[Row]:
    labels = ctx.labels
    first = next(t for m in models for t in var.by_model[m].values())
    size = _size_cells(_first_estimate(var, models[0]), ctx)
    if len(var.terms) == 1 and first.continuous:
        term = var.terms[0]
        cells = [Cell(f"{_variable_label(first, labels)} ({_level_label(first, labels)})")]
        cells += size
        for m in models:
            cells += _estimate_cells(var.by_model[m].get(term))
        return [Row(tuple(cells))]
    head = [Cell(_variable_label(first, labels)), *size]
    for m in models:
        est = _first_estimate(var, m)
        global_p = est.row.get("global_p") if est else None
        head += [Cell(""), Cell(""), p_cell(global_p) if global_p is not None else Cell("")]
    rows = [Row(tuple(head))]
    for term in var.terms:
        shown = next(var.by_model[m][term] for m in models if term in var.by_model[m])
        cells = [Cell(_level_label(shown, labels)), Cell(""), Cell("")]
        for m in models:
            cells += _estimate_cells(var.by_model[m].get(term))
        rows.append(Row(tuple(cells), indent=1))
    return rows


def _all_estimates(models: Mapping[str, list[Term]]) -> list[Mapping[str, Any]]:
    return [t.row for terms in models.values() for t in terms if not t.is_reference]


def _method_notes(models: Mapping[str, list[Term]], ctx: Context) -> list[str]:
    """Abbreviations in one line, then one line of methods, then the marked cases."""
    labels = ctx.labels
    rows = _all_estimates(models)
    ordinary = [r for r in rows if estimable(r) and not r.get("firth")]
    abbreviations = "HR, hazard ratio; CI, confidence interval; N, patients in the model"
    if any(t.is_reference for terms in models.values() for t in terms):
        abbreviations += f"; {DASH}, reference level"
    notes = [abbreviations + "."]
    methods: list[str] = []
    if ordinary:
        tests = sorted({str(r.get("test") or "Wald") for r in ordinary})
        names = " and ".join(labels.method("test", t) for t in tests)
        methods.append(f"two-sided p values from the {names} and 95% CIs by the Wald method")
    ties = sorted({str(r["ties"]) for r in rows if r.get("ties")})
    methods += [labels.method("cox_ties", t) for t in ties]
    if any(r.get("global_p") is not None for r in rows):
        methods.append(
            "a p value on a variable's own row is the global likelihood-ratio test of all its "
            "levels together"
        )
    if methods:
        notes.append(sentence("; ".join(methods)) + ".")
    if any(r.get("firth") and estimable(r) for r in rows):
        notes.append(
            f"{FIRTH_MARK} Firth's penalised-likelihood estimate (the ordinary likelihood is "
            "monotone, so its estimate diverges): p from the penalised likelihood-ratio test, "
            "95% CI from the profile penalised likelihood."
        )
    if any(not estimable(r) for r in rows):
        notes.append(
            f"{NOT_ESTIMABLE}: the likelihood is monotone (no events in a level, or all of "
            "them) and no penalised estimate was made."
        )
    return notes


def _multivariable_note(
    models: Mapping[str, list[Term]], cox_models: Sequence[Mapping[str, Any]], ctx: Context
) -> list[str]:
    terms = models.get("multivariable")
    if not terms:
        return []
    labels = ctx.labels
    names: list[str] = []
    for t in terms:
        label = _variable_label(t, labels)
        if label not in names:
            names.append(label)
    info = next((m for m in cox_models if m.get("model") == "multivariable"), None)
    source = info or next((t.row for t in terms if not t.is_reference), {})
    n, events = source.get("n"), source.get("events")
    size = ""
    if n is not None and events is not None:
        size = f" (N = {ctx.count(int(n)).text}, {ctx.count(int(events)).text} events)"
    return [f"Multivariable model{size}: {', '.join(names)}."]


def _epv_note(
    rows: Sequence[Mapping[str, Any]], cox_models: Sequence[Mapping[str, Any]], labels: Labels
) -> list[str]:
    """The events-per-variable note for models with fewer than 10 events per parameter."""
    low: list[str] = []
    if cox_models:
        for m in cox_models:
            if not m.get("epv_low"):
                continue
            epv = m.get("events_per_parameter")
            value = f", {round_half_up(float(epv), 1)}" if epv is not None else ""
            if m.get("model") == "multivariable":
                low.append(f"multivariable model{value}")
            else:
                names = ", ".join(labels.variable(str(v)) for v in m.get("variables") or [])
                low.append(f"{names}{value}")
    else:
        seen: set[tuple[str, str]] = set()
        for r in rows:
            model = str(r.get("model", "univariable"))
            multi = model == "multivariable"
            key = (model, "" if multi else str(r.get("variable")))
            if not r.get("epv_low") or key in seen:
                continue
            seen.add(key)
            epv = r.get("events_per_parameter")
            value = f", {round_half_up(float(epv), 1)}" if epv is not None else ""
            name = "multivariable model" if multi else labels.variable(key[1])
            low.append(f"{name}{value}")
    if not low:
        return []
    return [
        f"Fewer than {EPV_MIN} events per model parameter (events per parameter: "
        f"{'; '.join(low)}): estimates may be unstable and are best read as exploratory."
    ]


def _data_sheet(models: Mapping[str, list[Term]], ctx: Context) -> DataSheet:
    labels = ctx.labels
    columns = (
        "Model",
        "Variable",
        "Level",
        "Reference level",
        "N",
        "Events",
        "HR",
        "Lower 95% limit",
        "Upper 95% limit",
        "p",
        "Global p",
        "Firth estimate",
        "Estimable",
        "Events per parameter",
    )
    out: list[tuple[DataValue, ...]] = []
    for model, terms in models.items():
        for t in terms:
            r = t.row
            est = not t.is_reference and estimable(r)
            n, events = r.get("n"), r.get("events")
            out.append(
                (
                    sentence(labels.method("model", model)),
                    _variable_label(t, labels),
                    _level_label(t, labels),
                    t.is_reference,
                    ctx.data_count(int(n)) if n is not None else None,
                    ctx.data_count(int(events)) if events is not None else None,
                    r.get("hr") if est else None,
                    r.get("lower") if est else None,
                    r.get("upper") if est else None,
                    r.get("p") if est else None,
                    r.get("global_p"),
                    bool(r.get("firth")),
                    None if t.is_reference else est,
                    r.get("events_per_parameter"),
                )
            )
    return DataSheet(columns=columns, rows=tuple(out))


def cox_table(
    rows: Sequence[Mapping[str, Any]],
    endpoint: str = "PFSR",
    ctx: Context | None = None,
    cox_models: Sequence[Mapping[str, Any]] = (),
) -> Table:
    """The Cox table for ``endpoint``; multivariable columns only when that model exists."""
    ctx = ctx or Context()
    models = {m: normalise_rows(rows, m) for m in MODELS}
    models = {m: terms for m, terms in models.items() if terms}
    if not models:
        raise ValueError(f"no Cox rows for {endpoint}")
    shown = list(models)
    body: list[Row] = []
    for var in _variables(models):
        body += _variable_rows(var, shown, ctx)
    columns = ["Characteristic", "N", "Events"]
    spanners: list[Spanner] = []
    for i, m in enumerate(shown):
        columns += ["HR", "95% CI", "p"]
        spanners.append(Spanner(sentence(ctx.labels.method("model", m)), 3 + 3 * i, 6 + 3 * i))
    endpoint_label = ctx.labels.get("endpoint", endpoint)
    kind = "" if len(shown) > 1 else sentence(ctx.labels.method("model", shown[0])) + " "
    notes = _method_notes(models, ctx)
    notes += _multivariable_note(models, cox_models, ctx)
    notes += _epv_note(rows, cox_models, ctx.labels)
    if ctx.small_cell is not None:
        notes.append(ctx.note())
    return Table(
        id=f"table_cox_{endpoint.lower()}",
        title=f"{kind}Cox proportional-hazards regression: {endpoint_label}",
        columns=tuple(columns),
        rows=tuple(body),
        spanners=tuple(spanners) if len(shown) > 1 else (),
        footnotes=tuple(notes),
        data=_data_sheet(models, ctx),
    )


__all__ = ["FIRTH_MARK", "NOT_ESTIMABLE", "cox_table", "fmt_p", "normalise_rows", "table_terms"]
