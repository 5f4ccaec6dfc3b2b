"""``rechallenge plan``: sizing the prospective rechallenge trial.

Commands (each prints a table, or with ``--json`` one JSON object on stdout):

- ``events``: events for a two-arm log-rank test of a hazard ratio (Schoenfeld, or
  Freedman with ``--method freedman``) → ``events``, ``events_exact`` and the inputs;
- ``sample-size``: patients for two exponential arms with uniform accrual, follow-up and
  dropout (Lachin–Foulkes) → ``n``, ``n_control``, ``n_experimental``, ``events``, …;
- ``simon``: Simon's two-stage designs → ``optimal`` and ``minimax``, each
  ``r1, n1, r, n, en0, pet0, alpha_actual, power_actual`` (stop after stage 1 if
  responses ``<= r1``; reject H0 at the end if responses ``> r``);
  ``null`` when none fits within ``--nmax``;
- ``single-stage``: A'Hern's exact single-stage design → ``n``, ``r``, ``responses_needed``;
- ``one-arm``: one-sample log-rank design against a historical median (Wu 2015) →
  ``n``, ``events``, ``median_expected``;
- ``simulate``: a proposed two-arm trial simulated from a cohort's fitted curve
  (exponential or Weibull) → ``power``, ``duration``; seeded, with a progress bar.

Exit codes: 0 ok; 1 bad data (message on stderr); 2 usage error (bad option value, no
design possible).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rechallenge.analysis.formatting import clean
from rechallenge.planning.binary import ahern_single_stage, simon_two_stage
from rechallenge.planning.events import (
    METHODS,
    hazard_from_median,
    lachin_foulkes,
    required_events,
)
from rechallenge.planning.simulate import Curve, TrialDesign, simulate_trial
from rechallenge.planning.single_arm import one_sample_logrank
from rechallenge.stats.parametric import DISTRIBUTIONS, fit_parametric

app = typer.Typer(
    help="Plan the prospective trial: events, sample size, Simon two-stage, simulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_DATA = 1
EXIT_USAGE = 2

AlphaOpt = Annotated[float, typer.Option("--alpha", help="Type I error (total over --sides).")]
OneSidedAlphaOpt = Annotated[float, typer.Option("--alpha", help="One-sided type I error.")]
PowerOpt = Annotated[float, typer.Option("--power", help="Power, 1 - type II error.")]
SidesOpt = Annotated[int, typer.Option("--sides", help="1 or 2 (alpha split in two).")]
AllocOpt = Annotated[
    float, typer.Option("--allocation", help="Experimental patients per control patient.")
]
HrOpt = Annotated[
    float, typer.Option("--hr", help="Hazard ratio, experimental vs control.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def _emit(payload: dict[str, Any], as_json: bool, title: str) -> None:
    """JSON on stdout, or a two-column table of the scalar fields."""
    if as_json:
        typer.echo(json.dumps(clean(payload), allow_nan=False, indent=2))
        return
    table = Table(title=title, show_header=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    for key, value in payload.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                table.add_row(f"{key}.{sub}", _fmt(v))
        else:
            table.add_row(key, _fmt(value))
    console.print(table)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "–" if value is None else str(value)


P0Opt = Annotated[float, typer.Option("--p0", help="Uninteresting response rate.")]
P1Opt = Annotated[float, typer.Option("--p1", help="Response rate worth pursuing.")]


@app.command("events")
def events_cmd(
    hr: HrOpt,
    alpha: AlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    allocation: AllocOpt = 1.0,
    sides: SidesOpt = 2,
    method: Annotated[str, typer.Option("--method", help="schoenfeld or freedman.")] = "schoenfeld",
    as_json: JsonOpt = False,
) -> None:
    """Events needed for a two-arm log-rank comparison (Schoenfeld 1983; Freedman 1982)."""
    if method not in METHODS:
        raise _fail(f"--method must be one of {', '.join(METHODS)}")
    try:
        res = required_events(
            hr,
            alpha=alpha,
            power=power,
            allocation=allocation,
            sides=sides,
            method=method,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    _emit(res.to_dict(), as_json, "Events for the log-rank test")


@app.command("sample-size")
def sample_size_cmd(
    hr: HrOpt,
    accrual: Annotated[float, typer.Option("--accrual", help="Accrual period (time units).")],
    follow_up: Annotated[
        float, typer.Option("--follow-up", help="Follow-up after accrual ends (time units).")
    ],
    median_control: Annotated[
        float,
        typer.Option("--median-control", help="Control-arm median (same time units)."),
    ],
    dropout: Annotated[
        float,
        typer.Option(
            "--dropout", help="Dropout hazard per time unit (10 %/year in months: 0.00878)."
        ),
    ] = 0.0,
    alpha: AlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    allocation: AllocOpt = 1.0,
    sides: SidesOpt = 2,
    as_json: JsonOpt = False,
) -> None:
    """Patients for two exponential arms, uniform accrual and dropout (Lachin–Foulkes 1986)."""
    try:
        res = lachin_foulkes(
            hazard_from_median(median_control),
            hr,
            accrual=accrual,
            follow_up=follow_up,
            dropout=dropout,
            alpha=alpha,
            power=power,
            allocation=allocation,
            sides=sides,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    _emit(res.to_dict(), as_json, "Sample size (Lachin–Foulkes)")


@app.command("simon")
def simon_cmd(
    p0: P0Opt,
    p1: P1Opt,
    alpha: OneSidedAlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    nmax: Annotated[int, typer.Option("--nmax", help="Largest total sample size searched.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Simon's (1989) optimal and minimax two-stage designs for a response rate."""
    try:
        res = simon_two_stage(p0, p1, alpha=alpha, power=power, nmax=nmax)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if res.optimal is None and not as_json:
        raise _fail(f"no two-stage design with n <= {nmax}; raise --nmax")
    _emit(res.to_dict(), as_json, "Simon two-stage designs")


@app.command("single-stage")
def single_stage_cmd(
    p0: P0Opt,
    p1: P1Opt,
    alpha: OneSidedAlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    nmax: Annotated[int, typer.Option("--nmax", help="Largest sample size searched.")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """A'Hern's (2001) exact single-stage design for a response rate."""
    try:
        res = ahern_single_stage(p0, p1, alpha=alpha, power=power, nmax=nmax)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    _emit(res.to_dict(), as_json, "Single-stage design (A'Hern)")


@app.command("one-arm")
def one_arm_cmd(
    median_historical: Annotated[
        float, typer.Option("--median-historical", help="Historical median (time units).")
    ],
    hr: HrOpt,
    accrual: Annotated[float, typer.Option("--accrual", help="Accrual period (time units).")],
    follow_up: Annotated[
        float, typer.Option("--follow-up", help="Follow-up after accrual ends (time units).")
    ],
    shape: Annotated[float, typer.Option("--shape", help="Weibull shape (1: exponential).")] = 1.0,
    alpha: OneSidedAlphaOpt = 0.05,
    power: PowerOpt = 0.8,
    as_json: JsonOpt = False,
) -> None:
    """Single-arm design against a historical median: one-sample log-rank (Wu 2015)."""
    try:
        res = one_sample_logrank(
            median_historical,
            hr,
            accrual=accrual,
            follow_up=follow_up,
            shape=shape,
            alpha=alpha,
            power=power,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    _emit(res.to_dict(), as_json, "One-sample log-rank design")


def _curve_from_data(data: Path, time_col: str, event_col: str, distribution: str) -> Curve:
    """The intercept-only exponential or Weibull curve of a CSV's (time, event) columns."""
    try:
        frame = pd.read_csv(data)
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {data.name}: {exc}", EXIT_DATA) from exc
    missing = [c for c in (time_col, event_col) if c not in frame.columns]
    if missing:
        raise _fail(f"no column {', '.join(missing)} in {data.name}")
    t = pd.to_numeric(frame[time_col], errors="coerce")
    e = pd.to_numeric(frame[event_col], errors="coerce")
    bad = int((t.isna() | e.isna()).sum())
    if bad:
        raise _fail(f"{bad} rows with a missing or non-numeric time or event", EXIT_DATA)
    try:
        fit = fit_parametric(
            t.to_numpy(),
            e.to_numpy(),
            distribution=distribution,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise _fail(str(exc), EXIT_DATA) from exc
    return Curve(fit.shape, float(math.exp(fit.coef[0])))


@app.command("simulate")
def simulate_cmd(
    hr: HrOpt,
    n: Annotated[int, typer.Option("--n", help="Patients in the trial (both arms).")],
    accrual: Annotated[float, typer.Option("--accrual", help="Accrual period (time units).")],
    follow_up: Annotated[
        float,
        typer.Option("--follow-up", help="Follow-up after accrual (fixed-duration analysis)."),
    ] = 0.0,
    data: Annotated[
        Path | None,
        typer.Argument(
            help="CSV with the cohort's (time, event) rows; the control curve is fitted.",
            exists=True,
            dir_okay=False,
            metavar="[DATA]",
            show_default=False,
        ),
    ] = None,
    time_col: Annotated[str, typer.Option("--time", help="Time column of DATA.")] = "time",
    event_col: Annotated[
        str, typer.Option("--event", help="Event column of DATA (1 = event).")
    ] = "event",
    distribution: Annotated[
        str, typer.Option("--distribution", help="weibull or exponential (with DATA).")
    ] = "weibull",
    median_control: Annotated[
        float | None,
        typer.Option("--median-control", help="Exponential control median, without DATA."),
    ] = None,
    events: Annotated[
        int | None,
        typer.Option("--events", help="Event-driven: analyse at this many events."),
    ] = None,
    dropout: Annotated[
        float, typer.Option("--dropout", help="Dropout hazard per time unit.")
    ] = 0.0,
    allocation: AllocOpt = 1.0,
    alpha: AlphaOpt = 0.05,
    sides: SidesOpt = 2,
    n_sim: Annotated[int, typer.Option("--n-sim", help="Simulated trials.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same numbers).")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a proposed two-arm trial from the cohort's fitted curve: power, duration."""
    if (data is None) == (median_control is None):
        raise _fail("give either DATA (a fitted curve) or --median-control, not both")
    if distribution not in DISTRIBUTIONS:
        raise _fail(f"--distribution must be one of {', '.join(DISTRIBUTIONS)}")
    if data is not None:
        curve = _curve_from_data(data, time_col, event_col, distribution)
    else:
        assert median_control is not None
        if not median_control > 0:
            raise _fail("--median-control must be > 0")
        curve = Curve.exponential_median(median_control)
    design = TrialDesign(
        n=n,
        hr=hr,
        accrual=accrual,
        follow_up=follow_up,
        allocation=allocation,
        dropout=dropout,
        alpha=alpha,
        sides=sides,
        target_events=events,
    )
    try:
        design.check()
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    columns = (
        TextColumn("Simulating trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True, disable=as_json) as bar:
        task = bar.add_task("simulate", total=n_sim)
        res = simulate_trial(
            curve,
            design,
            n_sim=n_sim,
            seed=seed,
            progress=lambda i: bar.update(task, completed=i),
        )
    payload = res.to_dict()
    payload["curve"]["median"] = curve.median
    _emit(payload, as_json, "Simulated trial")
