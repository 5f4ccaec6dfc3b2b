"""``rechallenge meta proportions | medians``: meta-analysis of published studies from a CSV.

One row per study. Checked before any statistic, each refusal with a rule code,
spreadsheet rows (the header is row 1) and values shown plainly:

- META-001 the file cannot be read as CSV;
- META-002 a blank or NA value in a used column (``--drop-missing`` leaves those rows out,
  counted and listed; a literature table often has blanks marked "not verified");
- META-003 events/n not whole numbers, n < 1, events < 0 or events > n;
- META-004 medians or CI bounds not positive numbers, or not lower <= median <= upper;
- META-005 fewer than 2 studies left.

Exit codes: 0 ok; 1 bad data (message on stderr); 2 usage error (unknown column, bad
option value).

JSON keys (``--json``, unrounded): ``k, measure, method, pooled {estimate, ci_lower,
ci_upper}`` (proportion or median scale), ``pooled_transformed {estimate, se, ci_lower,
ci_upper}`` (model scale: logit, raw, double arcsine or log median), ``tau2, I2``
(percent), ``H2, Q, Q_df, Q_p, prediction {lower, upper}``, ``studies [{study, events, n,
estimate, ci_lower, ci_upper, weight}]`` (weight in percent; ``medians`` has no events/n).
With ``--moderator COL`` also ``subgroups``; with ``--sensitivity`` also
``leave_one_out`` and ``influence`` (k >= 3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.stats import norm

from rechallenge.analysis.formatting import clean
from rechallenge.stats.meta import (
    MEASURES,
    METHODS,
    MedianMeta,
    MetaFit,
    ProportionMeta,
    back_transform,
    influence,
    leave_one_out,
    meta_medians,
    meta_proportions,
    subgroups,
)

app = typer.Typer(
    help="Meta-analysis of published studies: pooled proportions and medians.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

#: Rows listed in a message; the count is always given.
ROWS_SHOWN = 10
DOCS = "docs/meta-analysis.md"


class BadData(Exception):
    """The data cannot be analysed; the message says why (exit code 1)."""


DataArg = Annotated[
    Path,
    typer.Argument(
        help="CSV file, one row per study.", exists=True, dir_okay=False, metavar="DATA"
    ),
]
StudyOpt = Annotated[
    str | None, typer.Option("--study", help="Column with study labels.", metavar="COLUMN")
]
MethodOpt = Annotated[
    str, typer.Option("--method", help=f"τ² estimator: {', '.join(METHODS)} (FE = common effect).")
]
HkOpt = Annotated[
    bool, typer.Option("--hk", help="Hartung–Knapp intervals (t on k - 1 df).", metavar="")
]
LevelOpt = Annotated[
    float, typer.Option("--conf-level", help="Confidence level of the pooled interval.")
]
ModOpt = Annotated[
    str | None,
    typer.Option(
        "--moderator", help="Column with a categorical moderator (subgroups).", metavar="COLUMN"
    ),
]
SensOpt = Annotated[
    bool,
    typer.Option("--sensitivity", help="Leave-one-out and influence diagnostics.", metavar=""),
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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.", metavar="")]


def _epilog(example: str) -> str:
    return (
        f"Example: {example}\n\n"
        "Exit codes: 0 done; 1 the data cannot be analysed (the reason, with spreadsheet "
        "rows, on stderr); 2 usage error (unknown column, bad option).\n\n"
        f"Method, assumptions and JSON keys: {DOCS}; reference values: docs/validation.md "
        "(section 'Meta-analysis')."
    )


def _rows(index: pd.Index | list[int]) -> str:
    """Spreadsheet row numbers (header = row 1) of the first ROWS_SHOWN positions."""
    rows = [int(i) + 2 for i in list(index)[:ROWS_SHOWN]]
    return ", ".join(map(str, rows)) + (" ..." if len(index) > ROWS_SHOWN else "")


def _plain(value: Any) -> str:
    """A value as the user typed it: -1.0, 'yes', not np.float64(-1.0)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _read(path: Path, columns: list[str], drop_missing: bool) -> tuple[pd.DataFrame, list[int]]:
    """The used columns, complete rows only (or refused), and the dropped spreadsheet rows."""
    try:
        frame = pd.read_csv(path, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise BadData(f"[META-001] cannot read {path.name} as CSV: {e}") from e
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        known = ", ".join(map(str, frame.columns))
        raise typer.BadParameter(f"column(s) {', '.join(missing)} not in {path.name} ({known})")
    used = frame[list(dict.fromkeys(columns))]
    incomplete = used.isna().any(axis=1)
    dropped: list[int] = []
    if incomplete.any():
        if not drop_missing:
            counts = ", ".join(f"{c}: {int(n)}" for c, n in used.isna().sum().items() if n)
            raise BadData(
                f"[META-002] {int(incomplete.sum())} row(s) have a blank or NA value in a "
                f"column the command uses ({counts}), at rows {_rows(used.index[incomplete])}; "
                "fill them in, or pass --drop-missing to leave those rows out"
            )
        dropped = [int(i) + 2 for i in used.index[incomplete]]
        used = used[~incomplete]
    if len(used) < 2:
        raise BadData(f"[META-005] {len(used)} study(ies) left; a meta-analysis needs 2")
    return used, dropped


def _numbers(values: pd.Series, option: str, code: str, rule: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers.fillna(0))
    if bad.any():
        raise BadData(
            f"[{code}] {option}: {int(bad.sum())} value(s) not a number, at rows "
            f"{_rows(values.index[bad])} (first: {_plain(values[bad].iloc[0])}); {rule}"
        )
    return numbers.astype(float)


def _refuse(bad: pd.Series, code: str, what: str, shown: pd.Series, rule: str) -> None:
    if bad.any():
        raise BadData(
            f"[{code}] {int(bad.sum())} row(s) {what}, at rows {_rows(shown.index[bad])} "
            f"(first: {_plain(shown[bad].iloc[0])}); {rule}"
        )


def _check_counts(frame: pd.DataFrame, events: str, n: str) -> tuple[pd.Series, pd.Series]:
    rule = "events and n must be whole numbers with 0 <= events <= n and n >= 1"
    x = _numbers(frame[events], f"--events {events}", "META-003", rule)
    m = _numbers(frame[n], f"--n {n}", "META-003", rule)
    _refuse(x != np.round(x), "META-003", f"with --events {events} not whole", frame[events], rule)
    _refuse(m != np.round(m), "META-003", f"with --n {n} not whole", frame[n], rule)
    _refuse(m < 1, "META-003", f"with --n {n} below 1", frame[n], rule)
    _refuse(x < 0, "META-003", f"with --events {events} negative", frame[events], rule)
    _refuse(x > m, "META-003", f"with more events ({events}) than n ({n})", frame[events], rule)
    return x, m


def _check_medians(
    frame: pd.DataFrame, median: str, lower: str, upper: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    rule = "medians and CI bounds must be numbers with 0 < lower <= median <= upper"
    med = _numbers(frame[median], f"--median {median}", "META-004", rule)
    lo = _numbers(frame[lower], f"--lower {lower}", "META-004", rule)
    up = _numbers(frame[upper], f"--upper {upper}", "META-004", rule)
    _refuse(lo <= 0, "META-004", f"with --lower {lower} not above 0", frame[lower], rule)
    _refuse(
        (med < lo) | (med > up), "META-004", "with the median outside its CI", frame[median], rule
    )
    _refuse(up <= lo, "META-004", "with an empty CI (upper <= lower)", frame[upper], rule)
    return med, lo, up


def _labels(frame: pd.DataFrame, study: str | None) -> list[str]:
    if study is None:
        return [f"Row {int(i) + 2}" for i in frame.index]
    return [str(v) for v in frame[study]]


def _check_options(method: str, conf_level: float, measure: str = "PLO") -> None:
    if method not in METHODS:
        raise typer.BadParameter(f"--method must be one of {', '.join(METHODS)}")
    if measure not in MEASURES:
        raise typer.BadParameter(f"--measure must be one of {', '.join(MEASURES)}")
    if not 0.0 < conf_level < 1.0:
        raise typer.BadParameter("--conf-level must be strictly between 0 and 1, e.g. 0.95")


Back = Callable[[float, "np.ndarray[Any, np.dtype[np.bool_]]"], float]


def _level_rows(fit: MetaFit, groups: list[str], back: Back) -> list[dict[str, Any]]:
    """Per moderator level: k, model-scale estimate and SE, τ², and the pooled value
    with its CI back on the reported scale (a one-study level: that study, z interval)."""
    sub = subgroups(fit, groups)
    g = np.asarray(groups)
    z = float(norm.ppf(1 - (1 - fit.conf_level) / 2))
    rows = []
    for lev, k, est, se, f in zip(
        sub.levels, sub.ks, sub.estimates, sub.ses, sub.fits, strict=True
    ):
        lo, hi = (est - z * se, est + z * se) if f is None else (f.ci_lower, f.ci_upper)
        mask = g == lev
        rows.append(
            {
                "level": lev,
                "k": k,
                "estimate_transformed": est,
                "se": se,
                "tau2": None if f is None else f.tau2,
                "pooled": {
                    "estimate": back(est, mask),
                    "ci_lower": back(lo, mask),
                    "ci_upper": back(hi, mask),
                },
            }
        )
    return rows


def _extras(
    fit: MetaFit,
    frame: pd.DataFrame,
    labels: list[str],
    moderator: str | None,
    sens: bool,
    back: Back,
) -> dict[str, Any]:
    """Subgroups (pooled per level on the reported scale) and sensitivity analyses
    (model scale), when asked for."""
    out: dict[str, Any] = {}
    try:
        if moderator is not None:
            groups = [str(v) for v in frame[moderator]]
            sub = subgroups(fit, groups)
            out["subgroups"] = {
                "moderator": moderator,
                "levels": _level_rows(fit, groups, back),
                "Q_between": sub.Q_between,
                "Q_between_df": sub.Q_between_df,
                "Q_between_p": sub.Q_between_p,
            }
        if sens:
            out["leave_one_out"] = [
                {
                    "omitted": labels[r.omitted],
                    **{k: v for k, v in r.to_dict().items() if k != "omitted"},
                }
                for r in leave_one_out(fit)
            ]
            out["influence"] = [
                {"study": labels[r.study], **{k: v for k, v in r.to_dict().items() if k != "study"}}
                for r in influence(fit)
            ]
    except ValueError as exc:
        raise BadData(f"[META-005] {exc}") from exc
    return out


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True, markup=True)
    return typer.Exit(code=1)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _print_summary(res: ProportionMeta | MedianMeta, scale: str, pct: bool) -> None:
    f = res.fit
    show = _pct if pct else (lambda v: f"{v:.2f}")
    unit = " %" if pct else ""
    test = "Hartung–Knapp (t)" if f.test == "knha" else "Wald (z)"
    level = f"{100 * f.conf_level:g}%"
    console.print(
        f"Pooled {scale}: {show(res.pooled)}{unit} ({level} CI {show(res.pooled_lower)}–"
        f"{show(res.pooled_upper)}), prediction interval {show(res.prediction_lower)}–"
        f"{show(res.prediction_upper)}; k = {f.k}, τ² ({f.method}) = {f.tau2:.4g}, "
        f"I² = {f.I2:.1f}%, H² = {f.H2:.2f}, Q = {f.Q:.2f} on {f.Q_df} df (p = {f.Q_p:.3g}); "
        f"{test}.",
        soft_wrap=True,
    )


def _print_studies(res: ProportionMeta | MedianMeta, counts: bool, pct: bool) -> None:
    table = Table(title="Studies", title_justify="left")
    table.add_column("Study")
    if counts:
        table.add_column("Events", justify="right")
        table.add_column("n", justify="right")
    head = "Estimate (%)" if pct else "Median"
    table.add_column(head, justify="right")
    table.add_column(f"{100 * res.fit.conf_level:g}% CI" if pct else "CI", justify="right")
    table.add_column("Weight (%)", justify="right")
    show = _pct if pct else (lambda v: f"{v:.2f}")
    for s in res.studies:
        cells = [escape(s.study)]
        if counts:
            cells += [f"{s.events:g}", f"{s.n:g}"]
        cells += [show(s.estimate), f"{show(s.ci_lower)}–{show(s.ci_upper)}", f"{s.weight:.1f}"]
        table.add_row(*cells)
    console.print(table)


def _print_extras(extras: dict[str, Any], *, pct: bool) -> None:
    show = _pct if pct else (lambda v: f"{v:.2f}")
    if "subgroups" in extras:
        g = extras["subgroups"]
        levels = "; ".join(
            f"{escape(lv['level'])} (k = {lv['k']}): {show(lv['pooled']['estimate'])} "
            f"({show(lv['pooled']['ci_lower'])}–{show(lv['pooled']['ci_upper'])})"
            for lv in g["levels"]
        )
        console.print(
            f"Moderator {escape(g['moderator'])}: {levels}; Q-between = {g['Q_between']:.2f} "
            f"on {g['Q_between_df']} df (p = {g['Q_between_p']:.3g}).",
            soft_wrap=True,
        )
    if "influence" in extras:
        table = Table(title="Influence (model scale)", title_justify="left")
        for col in ("Study", "rstudent", "DFFITS", "Cook's d", "hat", "τ² without", "Q without"):
            table.add_column(col, justify="left" if col == "Study" else "right")
        for r in extras["influence"]:
            table.add_row(
                escape(r["study"]),
                f"{r['rstudent']:.2f}",
                f"{r['dffits']:.2f}",
                f"{r['cook_d']:.2f}",
                f"{r['hat']:.2f}",
                f"{r['tau2_del']:.3g}",
                f"{r['QE_del']:.2f}",
            )
        console.print(table)


def _notes(dropped: list[int], adjusted: tuple[str, ...] = ()) -> None:
    if dropped:
        shown = ", ".join(map(str, dropped[:ROWS_SHOWN])) + (" ..." if len(dropped) > 10 else "")
        console.print(f"Dropped {len(dropped)} row(s) with a missing value: rows {shown}.")
    if adjusted:
        console.print(
            f"1/2 added to events and non-events of {len(adjusted)} study(ies) with 0 or n "
            "events (zero-cell correction).",
            soft_wrap=True,
        )


@app.command(
    epilog=_epilog(
        "rechallenge meta proportions studies.csv --events orr_events --n n --study study --json"
    )
)
def proportions(
    data: DataArg,
    events: Annotated[
        str, typer.Option("--events", help="Column with event counts.", metavar="COLUMN")
    ],
    n: Annotated[str, typer.Option("--n", help="Column with sample sizes.", metavar="COLUMN")],
    study: StudyOpt = None,
    measure: Annotated[
        str,
        typer.Option("--measure", help="PLO (logit), PR (raw) or PFT (double arcsine)."),
    ] = "PLO",
    method: MethodOpt = "REML",
    hk: HkOpt = False,
    conf_level: LevelOpt = 0.95,
    moderator: ModOpt = None,
    sensitivity: SensOpt = False,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Pooled proportion (e.g. ORR, DCR) across studies, as R metafor rma()."""
    _check_options(method, conf_level, measure)
    cols = [events, n] + [c for c in (study, moderator) if c]
    try:
        frame, dropped = _read(data, cols, drop_missing)
        x, m = _check_counts(frame, events, n)
        labels = _labels(frame, study)
        res = meta_proportions(
            x, m, study=labels, measure=measure, method=method, knha=hk, conf_level=conf_level
        )
        m_arr = m.to_numpy()

        def back(value: float, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> float:
            nhm = float(1 / np.mean(1 / m_arr[mask])) if measure == "PFT" else None
            return back_transform(measure, value, nhm)

        extras = _extras(res.fit, frame, labels, moderator, sensitivity, back)
    except BadData as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(clean({**res.to_dict(), **extras}), allow_nan=False, indent=2))
        return
    _notes(dropped, res.adjusted)
    _print_summary(res, "proportion", pct=True)
    _print_studies(res, counts=True, pct=True)
    _print_extras(extras, pct=True)


@app.command(
    epilog=_epilog(
        "rechallenge meta medians studies.csv --median pfs --lower pfs_lo --upper pfs_hi --json"
    )
)
def medians(
    data: DataArg,
    median: Annotated[str, typer.Option("--median", help="Column with medians.", metavar="COLUMN")],
    lower: Annotated[
        str, typer.Option("--lower", help="Column with CI lower bounds.", metavar="COLUMN")
    ],
    upper: Annotated[
        str, typer.Option("--upper", help="Column with CI upper bounds.", metavar="COLUMN")
    ],
    study: StudyOpt = None,
    method: MethodOpt = "REML",
    hk: HkOpt = False,
    conf_level: LevelOpt = 0.95,
    ci_level: Annotated[
        float, typer.Option("--ci-level", help="Confidence level of the published CIs.")
    ] = 0.95,
    moderator: ModOpt = None,
    sensitivity: SensOpt = False,
    drop_missing: DropOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Pooled median (e.g. PFS months) from published medians with CIs (log scale)."""
    _check_options(method, conf_level)
    if not 0.0 < ci_level < 1.0:
        raise typer.BadParameter("--ci-level must be strictly between 0 and 1, e.g. 0.95")
    cols = [median, lower, upper] + [c for c in (study, moderator) if c]
    try:
        frame, dropped = _read(data, cols, drop_missing)
        med, lo, up = _check_medians(frame, median, lower, upper)
        labels = _labels(frame, study)
        res = meta_medians(
            med,
            lo,
            up,
            study=labels,
            method=method,
            knha=hk,
            conf_level=conf_level,
            ci_level=ci_level,
        )
        extras = _extras(
            res.fit, frame, labels, moderator, sensitivity, lambda v, _mask: math.exp(v)
        )
    except BadData as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(clean({**res.to_dict(), **extras}), allow_nan=False, indent=2))
        return
    _notes(dropped)
    _print_summary(res, "median", pct=False)
    _print_studies(res, counts=False, pct=False)
    _print_extras(extras, pct=False)
