"""Table 5: Kaplan–Meier estimates per endpoint and subgroup, with median follow-up.

Rows per endpoint: all patients, then each subgroup variable (with its log-rank p) and its
levels. Columns: N, events, median (95% CI) and the survival rate at each landmark (95% CI).
A rate is 0 where the curve reached 0 before the landmark, and "Not estimable" only when the
results say so (after the last follow-up of a curve that has not reached 0). The median
follow-up (reverse Kaplan–Meier, ``results["follow_up"]``) is a row of its endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rechallenge.tables.common import DASH, Context, p_cell
from rechallenge.tables.model import Cell, DataSheet, DataValue, Row, Table, round_half_up

NOT_REACHED: Final[str] = "NR"
NOT_ESTIMABLE: Final[str] = "Not estimable"


def _months(x: Any) -> str:
    return NOT_REACHED if x is None else round_half_up(float(x), 1)


def median_text(median: Any, lower: Any, upper: Any) -> str:
    """``2.9 (1.9–11.0)``; ``Not reached (7.9–NR)`` when the median was not reached."""
    head = "Not reached" if median is None else round_half_up(float(median), 1)
    if lower is None and upper is None:
        return head
    return f"{head} ({_months(lower)}–{_months(upper)})"


def rate_text(rate: Mapping[str, Any] | None) -> str:
    """A landmark rate in percent with its CI; ``0.0`` at 0; "Not estimable" when null."""
    if rate is None:
        return DASH
    surv = rate.get("surv")
    if surv is None or rate.get("estimable") is False:
        return NOT_ESTIMABLE
    pct = round_half_up(100 * float(surv), 1)
    lo, hi = rate.get("lower"), rate.get("upper")
    if lo is None or hi is None or (float(surv) == 0 and float(lo) == 0 and float(hi) == 0):
        return pct
    return f"{pct} ({round_half_up(100 * float(lo), 1)}–{round_half_up(100 * float(hi), 1)})"


def _strata(curves: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {k: v for k, v in curves.items() if isinstance(v, Mapping)}


def has_curves(km: Any) -> bool:
    """Whether ``results["km"]`` holds at least one curve (an endpoint may hold only scalars,
    e.g. ``days_per_month``, when no curve could be estimated)."""
    return bool(curves_by_endpoint({"km": km}))


def landmarks(km: Mapping[str, Any]) -> list[float]:
    """Every landmark time (months) that any curve reports a rate for, ascending."""
    times = {
        float(r["time_months"])
        for curves in km.values()
        if isinstance(curves, Mapping)
        for curve in _strata(curves).values()
        for r in curve.get("rates") or []
        if r.get("time_months") is not None
    }
    return sorted(times)


def _rate_at(curve: Mapping[str, Any], t: float) -> Mapping[str, Any] | None:
    return next((r for r in curve.get("rates") or [] if float(r.get("time_months", -1)) == t), None)


def _curve_cells(curve: Mapping[str, Any], times: list[float], ctx: Context) -> list[Cell]:
    n, events = int(curve.get("n", 0)), int(curve.get("events", 0))
    cells = [ctx.count(n), ctx.count(events)]
    cells.append(
        Cell(median_text(curve.get("median_months"), curve.get("lower"), curve.get("upper")))
    )
    cells += [Cell(rate_text(_rate_at(curve, t))) for t in times]
    return cells


def _follow_up_row(follow_up: Mapping[str, Any], width: int, ctx: Context) -> Row:
    n = follow_up.get("n")
    cells = [
        Cell("Median follow-up"),
        ctx.count(int(n)) if n is not None else Cell(""),
        Cell(""),
        Cell(
            median_text(
                follow_up.get("median_months"), follow_up.get("lower"), follow_up.get("upper")
            )
        ),
    ]
    cells += [Cell("") for _ in range(width - len(cells))]
    return Row(tuple(cells), indent=1)


def _endpoint_rows(
    endpoint: str,
    curves: Mapping[str, Mapping[str, Any]],
    results: Mapping[str, Any],
    times: list[float],
    ctx: Context,
) -> list[Row]:
    labels = ctx.labels
    width = 5 + len(times)
    rows = [
        Row(
            tuple([Cell(labels.get("endpoint", endpoint))] + [Cell("")] * (width - 1)), kind="group"
        )
    ]
    if "all" in curves:
        rows.append(
            Row(
                (Cell("All patients"), *_curve_cells(curves["all"], times, ctx), Cell("")), indent=1
            )
        )
    follow_up = results.get("follow_up")
    if isinstance(follow_up, Mapping) and str(follow_up.get("endpoint", "OS")) == endpoint:
        rows.append(_follow_up_row(follow_up, width, ctx))
    by_variable: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for key, curve in curves.items():
        if key != "all" and "=" in key:
            variable, level = key.split("=", 1)
            by_variable.setdefault(variable, []).append((level, curve))
    logrank = (results.get("logrank") or {}).get(endpoint) or {}
    for variable, levels in by_variable.items():
        test = logrank.get(variable) if isinstance(logrank, Mapping) else None
        p = (
            p_cell(test.get("p"))
            if isinstance(test, Mapping) and test.get("p") is not None
            else Cell("")
        )
        head = [Cell(labels.variable(variable))] + [Cell("")] * (width - 2) + [p]
        rows.append(Row(tuple(head), indent=1))
        for level, curve in levels:
            cells = [
                Cell(labels.level(variable, level)),
                *_curve_cells(curve, times, ctx),
                Cell(""),
            ]
            rows.append(Row(tuple(cells), indent=2))
    return rows


def _data_rows(
    endpoint: str, curves: Mapping[str, Mapping[str, Any]], ctx: Context
) -> list[tuple[DataValue, ...]]:
    labels = ctx.labels
    out: list[tuple[DataValue, ...]] = []
    for key, curve in curves.items():
        if key == "all":
            group = "All patients"
        else:
            variable, _, level = key.partition("=")
            group = f"{labels.variable(variable)}: {labels.level(variable, level)}"
        n, events = (
            ctx.data_count(int(curve.get("n", 0))),
            ctx.data_count(int(curve.get("events", 0))),
        )
        short = labels.get("endpoint_short", endpoint)
        out.append(
            (
                short,
                group,
                "Median",
                None,
                curve.get("median_months"),
                curve.get("lower"),
                curve.get("upper"),
                n,
                events,
                None,
            )
        )
        for r in curve.get("rates") or []:
            at_risk = r.get("n_risk")
            out.append(
                (
                    short,
                    group,
                    "Survival rate",
                    r.get("time_months"),
                    r.get("surv"),
                    r.get("lower"),
                    r.get("upper"),
                    n,
                    events,
                    ctx.data_count(int(at_risk)) if at_risk is not None else None,
                )
            )
    return out


def _notes(results: Mapping[str, Any], ctx: Context) -> list[str]:
    labels = ctx.labels
    methods = results.get("methods") or {}
    notes = [
        "Kaplan–Meier estimates; times in months from the start of the course "
        f"(1 month = {methods.get('days_per_month', 30.4375)} days). Median (95% CI), months; "
        "landmark rates, % (95% CI). NR, not reached."
    ]
    ci = methods.get("km_ci_method")
    median_ci = methods.get("median_ci_method")
    parts = []
    if ci:
        parts.append(f"rates with {labels.method('km_ci_method', ci)}")
    if median_ci:
        parts.append(f"medians by the {labels.method('median_ci_method', median_ci)}")
    if parts:
        notes.append("95% CIs: " + "; ".join(parts) + ".")
    notes.append(
        "A rate is 0 where the curve reached 0 before the landmark; it is not estimable after "
        "the last follow-up of a curve that has not reached 0."
    )
    follow_up = results.get("follow_up")
    if isinstance(follow_up, Mapping):
        method = labels.method("follow_up", follow_up.get("method", "reverse_km"))
        notes.append(f"Median follow-up (95% CI), months, by the {method}.")
    if results.get("logrank"):
        notes.append("p, log-rank test between the levels of each subgroup variable.")
    proxy = methods.get("progression_method")
    if proxy:
        words = (methods.get("methods_text") or {}).get("progression_method") or labels.method(
            "progression_method", proxy
        )
        notes.append(f"Progression-free survival rows: {words}.")
    return notes


def curves_by_endpoint(results: Mapping[str, Any]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """Endpoint -> stratum -> curve, for the endpoints that have at least one curve."""
    km = results.get("km")
    if not isinstance(km, Mapping):
        return {}
    return {e: _strata(c) for e, c in km.items() if isinstance(c, Mapping) and _strata(c)}


def survival_table(results: Mapping[str, Any], ctx: Context | None = None) -> Table:
    """Table 5 from ``results["km"]`` (and ``follow_up``, ``logrank`` when present)."""
    ctx = ctx or Context()
    km = results.get("km") or {}
    endpoints = curves_by_endpoint(results)
    if not endpoints:
        raise ValueError("results contain no Kaplan–Meier curves")
    times = landmarks(km)
    columns = ["Endpoint and subgroup", "N", "Events", "Median, months (95% CI)"]
    columns += [f"{_time(t)}-month rate, % (95% CI)" for t in times]
    columns.append("p")
    body: list[Row] = []
    data: list[tuple[DataValue, ...]] = []
    for endpoint, curves in endpoints.items():
        body += _endpoint_rows(endpoint, curves, results, times, ctx)
        data += _data_rows(endpoint, curves, ctx)
    follow_up = results.get("follow_up")
    if isinstance(follow_up, Mapping):
        fu_n = follow_up.get("n")
        data.append(
            (
                labels_short(ctx, str(follow_up.get("endpoint", "OS"))),
                "All patients",
                "Median follow-up",
                None,
                follow_up.get("median_months"),
                follow_up.get("lower"),
                follow_up.get("upper"),
                ctx.data_count(int(fu_n)) if fu_n is not None else None,
                None,
                None,
            )
        )
    notes = _notes(results, ctx)
    if ctx.small_cell is not None:
        notes.append(ctx.note())
    sheet = DataSheet(
        columns=(
            "Endpoint",
            "Group",
            "Statistic",
            "Time, months",
            "Estimate",
            "Lower 95% limit",
            "Upper 95% limit",
            "N",
            "Events",
            "At risk",
        ),
        rows=tuple(data),
    )
    return Table(
        id="table5_survival",
        title="Table 5. Kaplan–Meier estimates of survival, overall and by subgroup",
        columns=tuple(columns),
        rows=tuple(body),
        footnotes=tuple(notes),
        data=sheet,
    )


def labels_short(ctx: Context, endpoint: str) -> str:
    """The short name of ``endpoint`` (``PFSR``)."""
    return ctx.labels.get("endpoint_short", endpoint)


def _time(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else round_half_up(t, 1)
