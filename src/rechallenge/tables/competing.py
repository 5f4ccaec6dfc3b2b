"""Table: cumulative incidence by cause, overall and by subgroup level, with Gray's test.

Reads ``results["competing_risks"]`` (see `rechallenge.analysis.competing`) and never
recomputes: per group and cause the patients, the events, the cumulative incidence (%) at
each configured time with its 95% CI and, in the subgroups, Gray's p on the first level's
row of each cause. The unrounded values go to the data sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from rechallenge.tables.common import Context
from rechallenge.tables.model import DataSheet, Row, Table, data_row, group_row, round_half_up

__all__ = ["COMPETING_TABLE_ID", "competing_table"]

COMPETING_TABLE_ID: Final = "table_competing_risks"
CAUSES: Final = ("progression", "death")
DASH: Final = "–"
CENTER: Final[Literal["center"]] = "center"


def _cif_cell(row: Mapping[str, Any]) -> str:
    """``61.5 (28.5–82.9)``; ``0.0`` without an interval; ``NE`` after the last follow-up."""
    if not row.get("estimable"):
        return "NE"
    est = round_half_up(100 * float(row["cif"]), 1)
    if row.get("lower") is None or row.get("upper") is None:
        return est
    lo, hi = (
        round_half_up(100 * float(row["lower"]), 1),
        round_half_up(100 * float(row["upper"]), 1),
    )
    return f"{est} ({lo}–{hi})"


def _p(value: Any) -> str:
    if value is None:
        return DASH
    p = float(value)
    return "< 0.001" if p < 0.001 else round_half_up(p, 3)


def _rows(
    name: str,
    block: Mapping[str, Any],
    ctx: Context,
    gray: Mapping[str, Any] | None,
    indent: int,
) -> tuple[list[Row], list[tuple[Any, ...]]]:
    """One row per cause of one group; Gray's p of the cause when given."""
    rows, data = [], []
    events = block.get("events") or {}
    for cause in CAUSES:
        curve = (block.get("curves") or {}).get(cause) or {}
        at = curve.get("at_times") or []
        p = (gray or {}).get(cause)
        rows.append(
            data_row(
                name if cause == CAUSES[0] else "",
                ctx.labels.method("competing_cause", cause),
                ctx.count(int(block.get("n", 0))).text if cause == CAUSES[0] else "",
                ctx.count(int(events.get(cause, 0))).text,
                *[_cif_cell(r) for r in at],
                "" if gray is None else _p(p),
                indent=indent,
            )
        )
        n, k = ctx.data_count(int(block.get("n", 0))), ctx.data_count(int(events.get(cause, 0)))
        for r in at:
            values = (r.get("time_months"), r.get("cif"), r.get("lower"), r.get("upper"))
            data.append((name, cause, n, k, *values, p))
    return rows, data


def competing_table(section: Mapping[str, Any], ctx: Context | None = None) -> Table:
    """Cumulative incidence of each cause at the configured times, overall and by subgroup."""
    ctx = ctx or Context()
    labels = ctx.labels
    times = [float(t) for t in section.get("times_months") or []]
    columns = (
        "Group",
        "Event",
        "n",
        "Events",
        *[f"{t:g} months, % (95% CI)" for t in times],
        "Gray's test p",
    )
    table = Table(
        id=COMPETING_TABLE_ID,
        title="Cumulative incidence of progression and of death without progression",
        columns=columns,
        align=("left", "left", *(CENTER,) * (len(columns) - 2)),
    )
    rows: list[Row] = []
    data: list[tuple[Any, ...]] = []
    overall = section.get("overall")
    if isinstance(overall, Mapping):
        r, d = _rows("All patients", overall, ctx, None, 0)
        rows += r
        data += d
    for variable, block in (section.get("subgroups") or {}).items():
        levels = block.get("levels") or {}
        if not levels:
            continue
        rows.append(group_row(labels.variable(variable), len(columns)))
        gray = {g["cause"]: g.get("p") for g in block.get("gray") or []}
        for i, (level, part) in enumerate(levels.items()):
            r, d = _rows(labels.level(variable, level), part, ctx, gray if i == 0 else None, 1)
            rows += r
            data += [(f"{variable}={level}", *x[1:]) for x in d]
    sheet = DataSheet(
        columns=(
            "group", "cause", "n", "events", "time_months", "cif", "lower", "upper", "gray_p",
        ),
        rows=tuple(data),
    )  # fmt: skip
    notes = _notes(section) + ([ctx.note()] if ctx.small_cell is not None else [])
    return table.with_rows(*rows).with_footnotes(*notes).with_data(sheet)


def _notes(section: Mapping[str, Any]) -> list[str]:
    endpoint = section.get("endpoint", "PFSR")
    notes = [
        f"{endpoint} events split by cause: progression, or death without progression as a "
        "competing event; Aalen–Johansen estimates with 95% pointwise confidence intervals "
        "(log(−log) transformation of the cmprsk variance).",
        "Gray's test compares the cumulative incidence of one cause between the levels of "
        "a subgroup; –, no test (no events of the cause).",
    ]
    if any(
        not r.get("estimable")
        for block in _blocks(section)
        for c in (block.get("curves") or {}).values()
        for r in c.get("at_times") or []
    ):
        notes.append("NE, not estimable: no patient of the group was followed that long.")
    return notes


def _blocks(section: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out = [section["overall"]] if isinstance(section.get("overall"), Mapping) else []
    for block in (section.get("subgroups") or {}).values():
        out += list((block.get("levels") or {}).values())
    return out
