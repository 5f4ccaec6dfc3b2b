"""``rechallenge stats km | logrank | cox | cif | finegray``: survival statistics on a CSV file.

Checked before any statistic, each refusal with a rule code, spreadsheet rows (the header
is row 1) and values shown plainly (STATS-001 unreadable CSV, STATS-002 censoring flag as
event, STATS-003 missing values, STATS-004 bad times, STATS-005 events not 0/1):

- a blank or NA value in a column the command uses refuses the file with the count and the
  first rows; ``--drop-missing`` leaves those rows out instead (as R's ``na.omit``), and the
  count and rows are printed and given as ``n_dropped`` / ``dropped_rows`` in JSON;
- times must be numbers, finite and ``>= 0``; events exactly 0 or 1 (or true/false);
- an event column named like a censoring flag (CDISC ``CNSR``, ``censor``, ``censored``:
  1 = censored) is refused unless ``--cnsr`` says so; it is then inverted (event = 1 - flag),
  which the output states (``event_definition`` in JSON).

Exit codes: 0 ok; 1 bad data (message on stderr); 2 usage error (unknown column, bad
option value, missing option).

JSON keys (``--json``):

The JSON of km, logrank and cox also has ``event_definition`` (``"event"`` or ``"1 - <column>"``)
and ``dropped_rows``.

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
  and ``zph`` (``cox_zph`` result; null with ``--start``).
- ``km`` and ``cox`` with ``--start START``: the rows are intervals ``(START, TIME]``
  (delayed entry, time-varying covariates; R ``Surv(start, stop, event)``), same keys;
  ``n`` is then the number of rows; a start that is not a number below the row's time
  is refused (STATS-007); the Cox concordance is null (not implemented for such data).
- ``cif`` (``--status``: 0 = censored, 1..k = causes; STATS-006 otherwise): ``command``,
  ``n_dropped``, ``dropped_rows``, ``curves`` (per group and cause ``group, cause, time,
  cif, variance``), ``at_times`` (``group, cause, time, cif, variance`` at ``--times``;
  null after a group's last follow-up), ``gray`` (per cause ``cause, stat, df, p``;
  empty without ``--group``).
- ``finegray``: ``command``, ``n_dropped``, ``dropped_rows``, ``cause``, ``n``,
  ``coefficients`` (``term, coef, se, z, p, hr``; robust SE), ``loglik``, ``iterations``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rechallenge.analysis.formatting import clean
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
    Path,
    typer.Argument(
        help="CSV file, one row per subject.", exists=True, dir_okay=False, metavar="DATA"
    ),
]
TimeOpt = Annotated[
    str, typer.Option("--time", help="Column with follow-up times (>= 0).", metavar="COLUMN")
]
EventOpt = Annotated[
    str,
    typer.Option(
        "--event", help="Column with 1 = event, 0 = censored (see --cnsr).", metavar="COLUMN"
    ),
]
CnsrOpt = Annotated[
    bool,
    typer.Option(
        "--cnsr",
        help="The --event column is a censoring flag (CDISC CNSR: 1 = censored); invert it.",
        metavar="",
    ),
]
DropOpt = Annotated[
    bool,
    typer.Option(
        "--drop-missing",
        help="Leave out rows with a blank/NA value in a used column (counted), "
        "instead of refusing the file.",
        metavar="",
    ),
]
StrataOpt = Annotated[
    str | None, typer.Option("--strata", help="Column with strata.", metavar="COLUMN")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.", metavar="")]

#: Names of censoring flags (1 = censored): refused as --event unless --cnsr is given.
CENSORING_FLAG = re.compile(r"(?i)(.*_)?(cnsr|cens|censor|censored|censoring)")
#: Rows listed in a message; the count is always given.
ROWS_SHOWN = 10
DOCS = "docs/validation.md (section 'Command line')"


def _epilog(example: str) -> str:
    """The end of each command's --help: an example, the exit codes, where the docs are."""
    return (
        f"Example: {example}\n\n"
        "Exit codes: 0 done; 1 the data cannot be analysed (the reason, with spreadsheet "
        "rows, on stderr); 2 usage error (unknown column, bad option).\n\n"
        f"Checks, JSON keys and the reference values behind each number: {DOCS}."
    )


class BadData(Exception):
    """The data cannot be analysed; the message says why (exit code 1)."""


@dataclass(frozen=True)
class Loaded:
    """The analysed rows (time and event checked and numeric) and what was done to get them."""

    frame: pd.DataFrame
    dropped_rows: tuple[int, ...]
    event_definition: str

    @property
    def n_dropped(self) -> int:
        return len(self.dropped_rows)

    def json_keys(self) -> dict[str, Any]:
        return {
            "n_dropped": self.n_dropped,
            "dropped_rows": list(self.dropped_rows),
            "event_definition": self.event_definition,
        }


def _rows(frame_index: pd.Index | list[int]) -> str:
    """Spreadsheet row numbers (header = row 1) of the first ROWS_SHOWN positions."""
    rows = [int(i) + 2 for i in list(frame_index)[:ROWS_SHOWN]]
    more = " ..." if len(frame_index) > ROWS_SHOWN else ""
    return ", ".join(map(str, rows)) + more


def _plain(value: Any) -> str:
    """A value as the user typed it: -1.0, 'yes', not np.float64(-1.0)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _load(
    path: Path,
    time: str,
    event: str,
    others: list[str],
    *,
    cnsr: bool = False,
    drop_missing: bool = False,
) -> Loaded:
    """Read the CSV, check the columns exist (usage error), then check every used value."""
    if CENSORING_FLAG.fullmatch(event) and not cnsr:
        _read_used(path, [time, event, *others], True)  # unknown columns first, as before
        raise BadData(
            f"[STATS-002] --event {event}: the name says it is a censoring flag (as CDISC "
            "CNSR: 1 = censored, 0 = event), the opposite of what --event expects; pass --cnsr to "
            "invert it (event = 1 - flag), or give a column with 1 = event"
        )
    used, dropped = _read_used(path, [time, event, *others], drop_missing)
    used[time] = _checked_time(used[time], time)
    flag = _checked_event(used[event], event)
    used[event] = 1 - flag if cnsr else flag
    definition = f"1 - {event}" if cnsr else "event"
    return Loaded(used.reset_index(drop=True), dropped, definition)


def _read_used(
    path: Path, columns: list[str], drop_missing: bool
) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """The used columns of the CSV (a copy), incomplete rows refused or dropped."""
    try:
        frame = pd.read_csv(path, skip_blank_lines=False)
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
        OverflowError,
    ) as exc:
        raise BadData(f"[STATS-001] cannot read {path.name} as CSV: {exc}") from exc
    columns = list(dict.fromkeys(columns))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        known = ", ".join(map(str, frame.columns))
        raise typer.BadParameter(f"column(s) {', '.join(missing)} not in {path.name} ({known})")
    used = frame[columns]
    incomplete = used.isna().any(axis=1)
    dropped: tuple[int, ...] = ()
    if incomplete.any():
        if not drop_missing:
            raise BadData(_missing_message(used, incomplete))
        dropped = tuple(int(i) + 2 for i in used.index[incomplete])
        used = used[~incomplete]
    return used.copy(), dropped


def _missing_message(used: pd.DataFrame, incomplete: pd.Series) -> str:
    counts = used.isna().sum()
    per_column = ", ".join(f"{c}: {int(n)}" for c, n in counts.items() if n)
    return (
        f"[STATS-003] {int(incomplete.sum())} row(s) have a blank or NA value in a column "
        f"the command uses ({per_column}), at rows {_rows(used.index[incomplete])}; fill "
        "them in, or pass --drop-missing to leave those rows out (the count is reported)"
    )


def _checked_time(values: pd.Series, column: str) -> pd.Series:
    """Numbers, finite, >= 0; each refusal with its rows and the first value."""
    numbers = pd.to_numeric(values, errors="coerce")
    for bad, what in (
        (numbers.isna(), "not a number"),
        (~np.isfinite(numbers.fillna(0)), "infinite"),
        (numbers < 0, "negative"),
    ):
        if bad.any():
            first = values[bad].iloc[0]
            raise BadData(
                f"[STATS-004] --time {column}: {int(bad.sum())} value(s) {what}, at rows "
                f"{_rows(values.index[bad])} (first: {_plain(first)}); follow-up times must "
                "be numbers >= 0"
            )
    return numbers.astype(float)


def _checked_event(values: pd.Series, column: str) -> pd.Series:
    """Exactly 0 or 1 (true/false read as 1/0)."""
    if values.dtype == bool:
        return values.astype(int)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = ~numbers.isin([0, 1])
    if bad.any():
        shown = ", ".join(_plain(v) for v in pd.unique(values[bad])[:5])
        raise BadData(
            f"[STATS-005] --event {column}: {int(bad.sum())} value(s) other than 0 and 1 "
            f"({shown}), at rows {_rows(values.index[bad])}; recode explicitly (R's 1/2 "
            "status: subtract 1; a censoring flag such as CDISC CNSR: pass --cnsr)"
        )
    return numbers.astype(int)


def _emit_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(clean(payload), allow_nan=False, indent=2))


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NA"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True, markup=True)
    return typer.Exit(code=1)


def _notes(loaded: Loaded, event: str) -> None:
    """What was done to the data before the statistics, in words."""
    if loaded.event_definition != "event":
        console.print(
            f"Event = 1 - {event}: the censoring flag {event} (1 = censored) was inverted (--cnsr)."
        )
    if loaded.n_dropped:
        console.print(
            f"Dropped {loaded.n_dropped} row(s) with a missing value in a used column "
            f"(--drop-missing): rows {_rows([r - 2 for r in loaded.dropped_rows])}.",
            soft_wrap=True,
        )


GroupOpt = Annotated[
    str | None, typer.Option("--group", help="Column with groups.", metavar="COLUMN")
]
ConfLevelOpt = Annotated[
    float,
    typer.Option("--conf-level", help="Confidence level, strictly between 0 and 1.", min=0.0),
]
StartOpt = Annotated[
    str | None,
    typer.Option(
        "--start",
        help="Column with entry times: rows are (start, time] intervals (delayed entry, "
        "time-varying covariates), as R Surv(start, stop, event).",
        metavar="COLUMN",
    ),
]


def _checked_start(frame: pd.DataFrame, start: str, time: str) -> pd.Series:
    """Entry times: numbers, finite, below the row's --time (STATS-007)."""
    values = frame[start]
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers.fillna(0)) | (numbers >= frame[time])
    if bad.any():
        first = values[bad].iloc[0]
        raise BadData(
            f"[STATS-007] --start {start}: {int(bad.sum())} value(s) that are not numbers "
            f"below --time {time}, at rows {_rows(values.index[bad])} (first: {_plain(first)}); "
            "each row is the interval (start, time]"
        )
    return numbers.astype(float)


@app.command(
    epilog=_epilog(
        "rechallenge stats km adtte.csv --time AVAL --event CNSR --cnsr --group TRT01P --json"
    )
)
def km(
    data: DataArg,
    time: TimeOpt,
    event: EventOpt,
    group: GroupOpt = None,
    conf_type: Annotated[
        str, typer.Option("--conf-type", help=f"CI type: {', '.join(CONF_TYPES)}.")
    ] = "log",
    tau: Annotated[float | None, typer.Option("--tau", help="RMST horizon.")] = None,
    start: StartOpt = None,
    conf_level: ConfLevelOpt = 0.95,
    quantiles: Annotated[
        str | None,
        typer.Option(
            "--quantiles",
            help="Comma-separated probabilities, e.g. 0.25,0.75 (R quantile.survfit).",
            metavar="P,...",
        ),
    ] = None,
    landmarks: Annotated[
        str | None,
        typer.Option(
            "--landmarks",
            help="Comma-separated times for survival with CI (R summary(fit, times =)).",
            metavar="T,...",
        ),
    ] = None,
    cnsr: CnsrOpt = False,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Kaplan–Meier curves with median (95% CI) per group, as R survfit/print."""
    if conf_type not in CONF_TYPES:
        raise typer.BadParameter(f"--conf-type must be one of {', '.join(CONF_TYPES)}")
    if not 0.0 < conf_level < 1.0:
        raise typer.BadParameter("--conf-level must be strictly between 0 and 1")
    probs = _parse_numbers(quantiles, "--quantiles")
    if any(not 0.0 < p < 1.0 for p in probs):
        raise typer.BadParameter("--quantiles must be probabilities strictly between 0 and 1")
    grid = _parse_numbers(landmarks, "--landmarks")
    others = ([group] if group else []) + ([start] if start else [])
    loaded = _load_or_exit(data, time, event, others, cnsr, drop_missing)
    frame = loaded.frame
    entry = _start_or_exit(frame, start, time)
    try:
        if group:
            fits = kaplan_meier_by_group(
                frame[time],
                frame[event],
                frame[group],
                conf_type=conf_type,  # type: ignore[arg-type]
                conf_level=conf_level,
                start=entry,
            )
        else:
            fits = {
                "all": kaplan_meier(
                    frame[time],
                    frame[event],
                    conf_type=conf_type,  # type: ignore[arg-type]
                    conf_level=conf_level,
                    start=entry,
                )
            }
        groups: dict[str, Any] = {}
        for level, fit in fits.items():
            entry = fit.to_dict()
            if tau is not None:
                entry["rmst"] = fit.rmst(tau).to_dict()
            if probs:
                entry["quantiles"] = [q.to_dict() for q in fit.quantile(probs)]
            if grid:
                entry["landmarks"] = fit.survival_at(grid).to_dict()
            groups[str(level)] = entry
    except ValueError as exc:
        raise _fail(exc) from exc
    if as_json:
        _emit_json(
            {"command": "km", "conf_type": conf_type, "conf_level": conf_level}
            | loaded.json_keys()
            | {"groups": groups}
        )
        return
    table = Table(title=f"Kaplan–Meier ({conf_type} CI)")
    ci = f"{100 * conf_level:g}% CI"
    for col in ("group", "n", "events", "median", ci) + (("RMST (SE)",) if tau else ()):
        table.add_column(col)
    for level, g in groups.items():
        row = [level, str(g["n"]), str(g["events"]), _fmt(g["median"])]
        row.append(f"{_fmt(g['median_lower'])} – {_fmt(g['median_upper'])}")
        if tau is not None:
            row.append(f"{_fmt(g['rmst']['rmst'])} ({_fmt(g['rmst']['se'])})")
        table.add_row(*row)
    console.print(table)
    for level, g in groups.items():
        for q in g.get("quantiles", []):
            console.print(
                f"{level}: {100 * q['prob']:g}th percentile {_fmt(q['estimate'])} "
                f"({ci} {_fmt(q['lower'])} – {_fmt(q['upper'])})"
            )
        lm = g.get("landmarks")
        if lm:
            for t, sv, lo, hi, nr in zip(
                lm["time"], lm["surv"], lm["lower"], lm["upper"], lm["n_risk"], strict=True
            ):
                console.print(
                    f"{level}: S({_fmt(t)}) = {_fmt(sv)} ({ci} {_fmt(lo)} – {_fmt(hi)}), "
                    f"{nr} at risk"
                )
    _notes(loaded, event)


def _parse_numbers(text: str | None, option: str) -> list[float]:
    """``"0.25,0.75"`` -> ``[0.25, 0.75]`` (usage error if not numbers)."""
    if not text:
        return []
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        message = f"{option} must be comma-separated numbers, got {text!r}"
        raise typer.BadParameter(message) from None


def _start_or_exit(frame: pd.DataFrame, start: str | None, time: str) -> pd.Series | None:
    """The checked --start column, or ``None`` without --start (exit 1 on bad values)."""
    if start is None:
        return None
    try:
        return _checked_start(frame, start, time)
    except BadData as exc:
        raise _fail(exc) from None


def _load_or_exit(
    data: Path, time: str, event: str, others: list[str], cnsr: bool, drop_missing: bool
) -> Loaded:
    try:
        return _load(data, time, event, others, cnsr=cnsr, drop_missing=drop_missing)
    except BadData as exc:
        raise _fail(exc) from None


@app.command(
    epilog=_epilog("rechallenge stats logrank data.csv --time months --event died --group arm")
)
def logrank(
    data: DataArg,
    time: TimeOpt,
    event: EventOpt,
    group: Annotated[str, typer.Option("--group", help="Column with groups.", metavar="COLUMN")],
    strata: StrataOpt = None,
    rho: Annotated[float, typer.Option("--rho", help="G-rho weight (1 = Peto-Peto).")] = 0.0,
    cnsr: CnsrOpt = False,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Log-rank / G-rho test between groups, as R survdiff."""
    others = [group] + ([strata] if strata else [])
    loaded = _load_or_exit(data, time, event, others, cnsr, drop_missing)
    frame = loaded.frame
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
        _emit_json({"command": "logrank"} | loaded.json_keys() | res.to_dict())
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
    _notes(loaded, event)


def _zph_function() -> Any:
    """``cox_zph`` from the Cox module (or its ``zph`` companion module)."""
    import importlib

    for name in ("rechallenge.stats.cox", "rechallenge.stats.zph"):
        module = importlib.import_module(name)
        if hasattr(module, "cox_zph"):
            return module.cox_zph
    raise ImportError("cox_zph is not available")


@app.command(
    epilog=_epilog(
        "rechallenge stats cox data.csv --time months --event died --covariates age,ecog "
        "--strata centre"
    )
)
def cox(
    data: DataArg,
    time: TimeOpt,
    event: EventOpt,
    covariates: Annotated[
        str,
        typer.Option("--covariates", help="Comma-separated covariate columns.", metavar="COLUMNS"),
    ],
    strata: StrataOpt = None,
    ties: Annotated[str, typer.Option("--ties", help="efron (R default) or breslow.")] = "efron",
    start: StartOpt = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            help="Reference level of a text covariate, COLUMN=LEVEL (repeatable). Default: "
            "the first level in code-point order; R's factor() sorts by the locale's "
            "collation, so give the level R uses to get R's parametrisation.",
            metavar="COLUMN=LEVEL",
        ),
    ] = None,
    conf_level: ConfLevelOpt = 0.95,
    show_zph: Annotated[
        bool, typer.Option("--zph", help="Also print the cox.zph table.", metavar="")
    ] = False,
    cnsr: CnsrOpt = False,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cox proportional-hazards model with global tests and cox.zph, as R coxph."""
    if ties not in ("efron", "breslow"):
        raise typer.BadParameter("--ties must be efron or breslow")
    if not 0.0 < conf_level < 1.0:
        raise typer.BadParameter("--conf-level must be strictly between 0 and 1")
    refs: dict[str, str] = {}
    for item in reference or []:
        column, sep, level = item.partition("=")
        if not sep or not column or not level:
            raise typer.BadParameter(f"--reference must be COLUMN=LEVEL, got {item!r}")
        refs[column.strip()] = level.strip()
    covs = [c.strip() for c in covariates.split(",") if c.strip()]
    if not covs:
        raise typer.BadParameter("--covariates needs at least one column")
    unknown = sorted(set(refs) - set(covs))
    if unknown:
        raise typer.BadParameter(f"--reference names column(s) not in --covariates: {unknown}")
    from rechallenge.stats.cox import fit_cox

    others = [*covs] + ([strata] if strata else []) + ([start] if start else [])
    loaded = _load_or_exit(data, time, event, others, cnsr, drop_missing)
    frame = loaded.frame
    entry = _start_or_exit(frame, start, time)
    try:
        fit = fit_cox(
            frame[time],
            frame[event],
            frame[covs],
            strata=None if strata is None else frame[strata],
            ties=ties,  # type: ignore[arg-type]
            start=entry,
            reference=_typed_references(frame, refs),
            conf_level=conf_level,
        )
        # cox.zph is not implemented for (start, stop] data
        zph = None if entry is not None else _zph_function()(fit)
    except ValueError as exc:
        raise _fail(exc) from exc
    result = fit.to_dict()
    if as_json:
        _emit_json(
            {"command": "cox", "ties": ties}
            | loaded.json_keys()
            | {"cox": result, "zph": None if zph is None else zph.to_dict()}
        )
        return
    typer.echo(_r_summary(result, conf_level))
    if show_zph and zph is not None:
        typer.echo(_zph_summary(zph.to_dict()))
    _notes(loaded, event)


# ----------------------------------------------------------------------------- competing risks

StatusOpt = Annotated[
    str,
    typer.Option(
        "--status",
        help="Column with 0 = censored, 1, 2, ... = cause of the event.",
        metavar="COLUMN",
    ),
]


def _checked_status(values: pd.Series, column: str) -> pd.Series:
    """Whole numbers >= 0 (0 = censored, k = cause k), as cmprsk's default coding."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != numbers.round())
    if bad.any():
        shown = ", ".join(_plain(v) for v in pd.unique(values[bad])[:5])
        raise BadData(
            f"[STATS-006] --status {column}: {int(bad.sum())} value(s) that are not whole "
            f"numbers >= 0 ({shown}), at rows {_rows(values.index[bad])}; code 0 = censored "
            "and 1, 2, ... = the cause of the event"
        )
    return numbers.astype(int)


def _load_competing(
    path: Path, time: str, status: str, others: list[str], drop_missing: bool
) -> Loaded:
    """Read and check the time and status columns of a competing-risks command."""
    try:
        used, dropped = _read_used(path, [time, status, *others], drop_missing)
        used[time] = _checked_time(used[time], time)
        used[status] = _checked_status(used[status], status)
    except BadData as exc:
        raise _fail(exc) from None
    return Loaded(used.reset_index(drop=True), dropped, "status")


def _parse_times(text: str | None) -> list[float]:
    """``"3,6,12"`` -> ``[3.0, 6.0, 12.0]`` (usage error if not numbers)."""
    return _parse_numbers(text, "--times")


@app.command(
    epilog=_epilog(
        "rechallenge stats cif data.csv --time months --status outcome --group arm "
        "--times 3,6,12 --json"
    )
)
def cif(
    data: DataArg,
    time: TimeOpt,
    status: StatusOpt,
    group: GroupOpt = None,
    times: Annotated[
        str | None,
        typer.Option("--times", help="Comma-separated times for the CIF table.", metavar="T,..."),
    ] = None,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cumulative incidence per cause (and group) with Gray's test, as R cmprsk cuminc."""
    from rechallenge.stats.competing import cumulative_incidence

    grid = _parse_times(times)
    loaded = _load_competing(data, time, status, [group] if group else [], drop_missing)
    frame = loaded.frame
    try:
        res = cumulative_incidence(
            frame[time],
            frame[status],
            group=None if group is None else frame[group].to_numpy(dtype=object),
            times=grid,
        )
    except ValueError as exc:
        raise _fail(exc) from exc
    out = res.to_dict()
    if as_json:
        keys = loaded.json_keys()
        keys.pop("event_definition")
        _emit_json({"command": "cif"} | keys | out)
        return
    table = Table(title="Cumulative incidence (Aalen–Johansen; variance as cmprsk)")
    for col in ("group", "cause", "time", "CIF", "SE"):
        table.add_column(col)
    for r in out["at_times"]:
        se = None if r["variance"] is None else math.sqrt(r["variance"])
        table.add_row(str(r["group"]), str(r["cause"]), _fmt(r["time"]), _fmt(r["cif"]), _fmt(se))
    if grid:
        console.print(table)
    for g in out["gray"]:
        console.print(
            f"Gray's test, cause {g['cause']}: stat = {_fmt(g['stat'])} on {g['df']} df, "
            f"p = {_fmt(g['p'])}"
        )
    _notes(loaded, status)


@app.command(
    epilog=_epilog(
        "rechallenge stats finegray data.csv --time months --status outcome --cause 1 "
        "--covariates age,ecog --json"
    )
)
def finegray(
    data: DataArg,
    time: TimeOpt,
    status: StatusOpt,
    covariates: Annotated[
        str,
        typer.Option("--covariates", help="Comma-separated covariate columns.", metavar="COLUMNS"),
    ],
    cause: Annotated[int, typer.Option("--cause", help="The cause modelled (crr failcode).")] = 1,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fine–Gray subdistribution-hazard regression, as R cmprsk crr (to the maximum)."""
    from rechallenge.stats.finegray import fit_fine_gray

    covs = [c.strip() for c in covariates.split(",") if c.strip()]
    if not covs:
        raise typer.BadParameter("--covariates needs at least one column")
    loaded = _load_competing(data, time, status, covs, drop_missing)
    frame = loaded.frame
    try:
        fit = fit_fine_gray(frame[time], frame[status], frame[covs], cause=cause)
    except ValueError as exc:
        raise _fail(exc) from exc
    out = fit.to_dict()
    if as_json:
        keys = loaded.json_keys()
        keys.pop("event_definition")
        _emit_json({"command": "finegray"} | keys | out)
        return
    table = Table(title=f"Fine–Gray regression, cause {cause} (robust SE)")
    for col in ("term", "coef", "se", "sHR", "z", "p"):
        table.add_column(col)
    for r in out["coefficients"]:
        table.add_row(
            str(r["term"]),
            _fmt(r["coef"]),
            _fmt(r["se"]),
            _fmt(r["hr"]),
            _fmt(r["z"]),
            _fmt(r["p"]),
        )
    console.print(table)
    console.print(
        f"n = {out['n']}, log pseudo-likelihood = {_fmt(out['loglik'], 6)}, "
        f"{out['iterations']} iterations"
    )
    _notes(loaded, status)


def _typed_references(frame: pd.DataFrame, refs: dict[str, str]) -> dict[str, Any]:
    """``--reference`` levels as the column holds them (a CSV level ``"2"`` may be text)."""
    out: dict[str, Any] = {}
    for column, level in refs.items():
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise typer.BadParameter(
                f"--reference {column}={level}: {column} is numeric (a single slope); "
                "a reference level needs a text column"
            )
        out[column] = level
    return out


def _sig(x: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits, as R's ``print(signif(x))``."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NA"
    return f"{float(x):.{digits}g}"


def _pval(p: Any) -> str:
    """R's ``format.pval(p, digits = 1)`` for the global tests (``<2e-16`` below eps)."""
    if p is None:
        return "NA"
    if p < 2.2e-16:
        return "<2e-16"
    return f"{p:.1g}" if p < 1e-3 else f"{p:.2g}"


def _r_summary(result: dict[str, Any], conf_level: float) -> str:
    """The layout of R ``summary(coxph(...))``: n, events, both coefficient tables,
    concordance and the three global tests."""
    terms = result["terms"]
    width = max([len(t["term"]) for t in terms] + [4])
    head = f"{'':{width}}  {'coef':>10} {'exp(coef)':>10} {'se(coef)':>10} {'z':>8} {'Pr(>|z|)':>9}"
    lines = [f"  n= {result['n']}, number of events= {result['events']}", "", head]
    for t in terms:
        lines.append(
            f"{t['term']:{width}}  {_sig(t['coef']):>10} {_sig(t['hr']):>10} "
            f"{_sig(t['se']):>10} {_sig(t['z']):>8} {_sig(t['p'], 3):>9}"
        )
    pct = f"{conf_level:g}".lstrip("0")
    lines += [
        "",
        f"{'':{width}}  {'exp(coef)':>10} {'exp(-coef)':>10} {'lower ' + pct:>10} "
        f"{'upper ' + pct:>10}",
    ]
    for t in terms:
        inv = None if t["hr"] in (None, 0) else 1.0 / t["hr"]
        lines.append(
            f"{t['term']:{width}}  {_sig(t['hr']):>10} {_sig(inv):>10} "
            f"{_sig(t['hr_lower']):>10} {_sig(t['hr_upper']):>10}"
        )
    c = result["concordance"]
    lines.append("")
    if c["c"] is not None:
        lines.append(f"Concordance= {_sig(c['c'], 3)}  (se = {round(c['se'], 3):g} )")
    tests = result["tests"]
    for label, key in (
        ("Likelihood ratio test", "lr"),
        ("Wald test            ", "wald"),
        ("Score (logrank) test ", "score"),
    ):
        t = tests[key]
        lines.append(f"{label}= {_sig(t['chi2'], 4)}  on {t['df']} df,   p={_pval(t['p'])}")
    for w in result.get("warnings", []):
        lines.append(f"Warning: {w}")
    return "\n".join(lines)


def _zph_summary(zph: dict[str, Any]) -> str:
    """The layout of R ``print(cox.zph(fit))``: chisq, df, p per term and GLOBAL."""
    rows = [*zph["terms"], {"term": "GLOBAL", **zph["global"]}]
    width = max(len(r["term"]) for r in rows)
    lines = [
        "",
        f"cox.zph (transform = {zph['transform']})",
        f"{'':{width}}  {'chisq':>8} {'df':>3} {'p':>8}",
    ]
    for r in rows:
        lines.append(
            f"{r['term']:{width}}  {_sig(r['chisq'], 3):>8} {r['df']:>3} {_sig(r['p'], 3):>8}"
        )
    return "\n".join(lines)
