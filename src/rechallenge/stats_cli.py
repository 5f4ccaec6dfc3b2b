"""``rechallenge stats km | logrank | cox``: survival statistics on any CSV file.

Rows with a missing value in a column the command uses are dropped and counted (as R's
``na.omit``); the count is printed and given as ``n_dropped`` in JSON.

Exit codes: 0 ok; 1 bad data (message on stderr); 2 usage error (unknown column, bad
option value, missing option).

JSON keys (``--json``):

- ``km``: ``command``, ``conf_type``, ``conf_level``, ``n_dropped``, ``groups`` — a map
  from group label (``"all"`` without ``--group``) to ``n``, ``events``, ``median``,
  ``median_lower``, ``median_upper``, ``median_method``, ``table`` (the step table:
  ``time, n_risk, n_event, n_censor, surv, std_err, std_err_log, lower, upper``) and,
  with ``--tau``, ``rmst`` (``tau, rmst, se``).
- ``logrank``: ``command``, ``n_dropped``, ``test``, ``chi2``, ``df``, ``p``, ``rho``,
  ``n_strata``, ``table`` (per group ``group, n, observed, expected, oe2_over_e,
  oe2_over_v``), ``variance``.
- ``cox``: ``command``, ``n_dropped``, ``ties``, ``cox`` (``CoxResult.to_dict()``: per term
  ``term, coef, se, hr, hr_lower, hr_upper, z, p``; ``tests`` ``lr/wald/score``; ...)
  and ``zph`` (``cox_zph`` result).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from rechallenge.stats.km import CONF_TYPES, kaplan_meier, kaplan_meier_by_group
from rechallenge.stats.logrank import logrank_test

app = typer.Typer(
    help="Survival statistics on a CSV file: Kaplan–Meier, log-rank, Cox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DataArg = Annotated[
    Path, typer.Argument(help="CSV file, one row per subject.", exists=True, dir_okay=False)
]
TimeOpt = Annotated[str, typer.Option("--time", help="Column with follow-up times (>= 0).")]
EventOpt = Annotated[str, typer.Option("--event", help="Column with 1 = event, 0 = censored.")]
StrataOpt = Annotated[str | None, typer.Option("--strata", help="Column with strata.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


class BadData(Exception):
    """The data cannot be analysed; the message says why (exit code 1)."""


def _load(path: Path, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """Read the CSV, check the columns exist (usage error), drop incomplete rows."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadData(f"cannot read {path.name} as CSV: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        known = ", ".join(map(str, frame.columns))
        raise typer.BadParameter(f"column(s) {', '.join(missing)} not in {path.name} ({known})")
    used = frame[columns]
    complete = used.notna().all(axis=1)
    return used[complete].reset_index(drop=True), int((~complete).sum())


def _clean_json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    if isinstance(value, np.generic):
        return _clean_json(value.item())
    return value


def _emit_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(_clean_json(payload), allow_nan=False, indent=2))


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NA"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {exc}")
    return typer.Exit(code=1)


def _dropped_note(n_dropped: int) -> None:
    if n_dropped:
        console.print(f"Dropped {n_dropped} row(s) with a missing value in a used column.")


@app.command()
def km(
    data: DataArg,
    time: TimeOpt,
    event: EventOpt,
    group: Annotated[str | None, typer.Option("--group", help="Column with groups.")] = None,
    conf_type: Annotated[
        str, typer.Option("--conf-type", help=f"CI type: {', '.join(CONF_TYPES)}.")
    ] = "log",
    tau: Annotated[float | None, typer.Option("--tau", help="RMST horizon.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Kaplan–Meier curves with median (95% CI) per group, as R survfit/print."""
    if conf_type not in CONF_TYPES:
        raise typer.BadParameter(f"--conf-type must be one of {', '.join(CONF_TYPES)}")
    frame, n_dropped = _load(data, [time, event] + ([group] if group else []))
    try:
        if group:
            fits = kaplan_meier_by_group(
                frame[time],
                frame[event],
                frame[group],
                conf_type=conf_type,  # type: ignore[arg-type]
            )
        else:
            fits = {"all": kaplan_meier(frame[time], frame[event], conf_type=conf_type)}  # type: ignore[arg-type]
        groups: dict[str, Any] = {}
        for level, fit in fits.items():
            entry = fit.to_dict()
            if tau is not None:
                entry["rmst"] = fit.rmst(tau).to_dict()
            groups[str(level)] = entry
    except ValueError as exc:
        raise _fail(exc) from exc
    if as_json:
        _emit_json(
            {
                "command": "km",
                "conf_type": conf_type,
                "conf_level": 0.95,
                "n_dropped": n_dropped,
                "groups": groups,
            }
        )
        return
    table = Table(title=f"Kaplan–Meier ({conf_type} CI)")
    for col in ("group", "n", "events", "median", "95% CI") + (("RMST (SE)",) if tau else ()):
        table.add_column(col)
    for level, g in groups.items():
        row = [level, str(g["n"]), str(g["events"]), _fmt(g["median"])]
        row.append(f"{_fmt(g['median_lower'])} – {_fmt(g['median_upper'])}")
        if tau is not None:
            row.append(f"{_fmt(g['rmst']['rmst'])} ({_fmt(g['rmst']['se'])})")
        table.add_row(*row)
    console.print(table)
    _dropped_note(n_dropped)


@app.command()
def logrank(
    data: DataArg,
    time: TimeOpt,
    event: EventOpt,
    group: Annotated[str, typer.Option("--group", help="Column with groups.")],
    strata: StrataOpt = None,
    rho: Annotated[float, typer.Option("--rho", help="G-rho weight (1 = Peto-Peto).")] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Log-rank / G-rho test between groups, as R survdiff."""
    frame, n_dropped = _load(data, [time, event, group] + ([strata] if strata else []))
    try:
        res = logrank_test(
            frame[time],
            frame[event],
            frame[group],
            strata=None if strata is None else frame[strata],
            rho=rho,
        )
    except ValueError as exc:
        raise _fail(exc) from exc
    if as_json:
        _emit_json({"command": "logrank", "n_dropped": n_dropped} | res.to_dict())
        return
    table = Table(title=res.test)
    for col in ("group", "N", "Observed", "Expected", "(O-E)^2/E", "(O-E)^2/V"):
        table.add_column(col)
    for r in res.table():
        table.add_row(
            str(r["group"]),
            str(r["n"]),
            _fmt(r["observed"]),
            _fmt(r["expected"]),
            _fmt(r["oe2_over_e"]),
            _fmt(r["oe2_over_v"]),
        )
    console.print(table)
    console.print(f"Chisq = {res.chi2:.6g} on {res.df} df, p = {_fmt(res.p)}")
    _dropped_note(n_dropped)


def _zph_function() -> Any:
    """``cox_zph`` from the Cox module (or its ``zph`` companion module)."""
    import importlib

    for name in ("rechallenge.stats.cox", "rechallenge.stats.zph"):
        module = importlib.import_module(name)
        if hasattr(module, "cox_zph"):
            return module.cox_zph
    raise ImportError("cox_zph is not available")


@app.command()
def cox(
    data: DataArg,
    time: TimeOpt,
    event: EventOpt,
    covariates: Annotated[
        str, typer.Option("--covariates", help="Comma-separated covariate columns.")
    ],
    strata: StrataOpt = None,
    ties: Annotated[str, typer.Option("--ties", help="efron (R default) or breslow.")] = "efron",
    as_json: JsonOpt = False,
) -> None:
    """Cox proportional-hazards model with global tests and cox.zph, as R coxph."""
    if ties not in ("efron", "breslow"):
        raise typer.BadParameter("--ties must be efron or breslow")
    covs = [c.strip() for c in covariates.split(",") if c.strip()]
    if not covs:
        raise typer.BadParameter("--covariates needs at least one column")
    from rechallenge.stats.cox import fit_cox

    frame, n_dropped = _load(data, [time, event, *covs] + ([strata] if strata else []))
    try:
        fit = fit_cox(
            frame[time],
            frame[event],
            frame[covs],
            strata=None if strata is None else frame[strata],
            ties=ties,  # type: ignore[arg-type]
        )
        zph = _zph_function()(fit)
    except ValueError as exc:
        raise _fail(exc) from exc
    result = fit.to_dict()
    if as_json:
        _emit_json(
            {
                "command": "cox",
                "ties": ties,
                "n_dropped": n_dropped,
                "cox": result,
                "zph": zph.to_dict(),
            }
        )
        return
    table = Table(title=f"Cox proportional hazards (ties = {ties})")
    for col in ("term", "coef", "se", "HR", "95% CI", "z", "p"):
        table.add_column(col)
    for t in result["terms"]:
        table.add_row(
            str(t["term"]),
            _fmt(t["coef"]),
            _fmt(t["se"]),
            _fmt(t["hr"]),
            f"{_fmt(t['hr_lower'])} – {_fmt(t['hr_upper'])}",
            _fmt(t["z"]),
            _fmt(t["p"]),
        )
    console.print(table)
    for name, test in result.get("tests", {}).items():
        console.print(f"{name}: {json.dumps(_clean_json(test))}")
    _dropped_note(n_dropped)
