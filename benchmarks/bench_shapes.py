"""Survival speed on more data shapes: many groups, strata, whole days and continuous times.

Run on demand (in an environment with statsmodels and lifelines):
``python -m benchmarks.bench_shapes [--sizes 5,6] [--kinds days,continuous]``

Tasks, every peer that can do the task timed side by side in one process run:

- KM by k = 10 and k = 50 groups with the median and its CI: ours
  ``kaplan_meier_by_group``; statsmodels ``SurvfuncRight`` per group (median + log CI);
  lifelines ``KaplanMeierFitter`` per group (``median_survival_times`` of the band);
  R ``survfit(Surv(time, event) ~ g)`` + ``summary(fit)$table``.
- log-rank with k = 10 groups: ours ``logrank_test``; statsmodels ``survdiff``; lifelines
  ``multivariate_logrank_test``; R ``survdiff``.
- stratified log-rank, 2 groups × 10 strata: ours ``logrank_test(strata=)``; statsmodels
  ``survdiff(strata=)``; R ``survdiff(... ~ g + strata(s))`` (lifelines has no stratified
  log-rank).
- stratified Cox, Efron, p = 1, 10 strata: ours ``fit_cox(strata=, concordance=False)``
  (the fit, what statsmodels and lifelines compute) and with the default concordance
  (R ``coxph`` always computes it); statsmodels ``PHReg(strata=)``; lifelines
  ``CoxPHFitter(strata=)``; R ``coxph(... ~ x + strata(s))``.

Data (seeded): exponential event times whose hazard depends on the 50-level group, a 0/1
group and the stratum, exponential censoring (about 30 % censored). *days*: times rounded
up to whole days (heavy ties); *continuous*: a uniform fraction of a day subtracted (no
ties). R is run with ``timefix = FALSE`` so that it sees exactly our times.

Seconds are CPU seconds (``time.process_time``; R: ``system.time`` user + system inside
R), best of 3 when the first run is under 1 s, else one run. Pin the run to one core
(``taskset -c 0``) on a shared machine. Answers are compared with R in the same run:
KM medians and CI limits, log-rank chi-square (relative), Cox coefficient (absolute).
Writes ``benchmarks/results/shapes.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rechallenge.stats.cox import fit_cox
from rechallenge.stats.km import kaplan_meier_by_group
from rechallenge.stats.logrank import logrank_test

RESULTS = Path(__file__).resolve().parent / "results" / "shapes.md"
PEERS = ("statsmodels", "lifelines", "R")

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1])
cpu <- function(expr) { s <- system.time(expr); s[["user.self"]] + s[["sys.self"]] }
best <- function(f) { t <- cpu(f()); if (t < 1) t <- min(t, cpu(f()), cpu(f())); t }
km <- function(g) function() { fit <<- survfit(Surv(time, event) ~ g, data = d,
                                               timefix = FALSE); tab <<- summary(fit)$table }
# survdiff 3.5 passes timefix on to model.frame (an error): the same function without that
sd <- survdiff; b <- deparse(body(sd))
b <- sub("m$rho <- NULL", "m$rho <- NULL; m$timefix <- NULL", b, fixed = TRUE)
body(sd) <- parse(text = b)[[1]]; environment(sd) <- asNamespace("survival")
out <- function(task, t, vals) cat(task, t, format(vals, digits = 17), "\n")
for (g in c("g10", "g50")) {
  d$g <- d[[g]]
  t <- best(km(g))
  out(paste0("km_", g), t, as.vector(t(tab[, c("median", "0.95LCL", "0.95UCL")])))
}
t <- best(function() lr <<- sd(Surv(time, event) ~ g10, data = d, timefix = FALSE))
out("logrank_g10", t, lr$chisq)
t <- best(function() lr <<- sd(Surv(time, event) ~ g2 + strata(s), data = d,
                                     timefix = FALSE))
out("logrank_strata", t, lr$chisq)
t <- best(function() cx <<- coxph(Surv(time, event) ~ x + strata(s), data = d, ties = "efron",
                                  control = coxph.control(timefix = FALSE)))
out("cox_strata", t, coef(cx))
"""


@dataclass(frozen=True)
class Shape:
    """One benchmark data set: times, events, group codes, strata and a covariate."""

    time: np.ndarray
    event: np.ndarray
    g2: np.ndarray
    g10: np.ndarray
    g50: np.ndarray
    s: np.ndarray
    x: np.ndarray


def make_shape(n: int, kind: str, seed: int = 20261204) -> Shape:
    """Draw ``n`` rows; ``kind`` is ``"days"`` (whole days) or ``"continuous"`` (no ties)."""
    rng = np.random.default_rng(seed)
    g50 = rng.integers(0, 50, n)
    g2 = rng.integers(0, 2, n)
    s = rng.integers(0, 10, n)
    rate = np.exp(0.5 * g2 + 0.01 * g50 - 0.05 * s) / 365.0
    event_time = rng.exponential(1.0 / rate)
    censor = rng.exponential(365.0 * 2.0, n)
    time_ = np.ceil(np.minimum(event_time, censor))
    if kind == "continuous":
        time_ = time_ - rng.random(n)
    event = (event_time <= censor).astype(np.int8)
    return Shape(time_, event, g2, g50 % 10, g50, s, g2.astype(np.float64))


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU seconds of one call; best of 3 when the first call takes under a second."""
    values = []
    for _ in range(3):
        start = time.process_time()
        fn()
        values.append(time.process_time() - start)
        if values[0] >= 1.0:
            break
    return min(values)


@dataclass
class Row:
    """One task on one data set: seconds per tool and the differences from R."""

    n: int
    kind: str
    task: str
    seconds: dict[str, float] = field(default_factory=dict)
    ours_result: object = None
    agreement: str = "–"


def _sm_km(sh: Shape, g: np.ndarray) -> Callable[[], object]:
    from statsmodels.duration.survfunc import SurvfuncRight

    def fit() -> None:
        for level in np.unique(g):
            m = g == level
            sf = SurvfuncRight(sh.time[m], sh.event[m])
            sf.quantile(0.5)
            sf.quantile_ci(0.5, method="log")

    return fit


def _ll_km(sh: Shape, g: np.ndarray) -> Callable[[], object]:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    def fit() -> None:
        for level in np.unique(g):
            m = g == level
            f = KaplanMeierFitter().fit(sh.time[m], sh.event[m])
            median_survival_times(f.confidence_interval_)

    return fit


def tools(sh: Shape) -> dict[str, dict[str, Callable[[], object]]]:
    """Per task, the callables of ours and of the Python peers on the same arrays."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import multivariate_logrank_test
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import survdiff

    t, e = sh.time, sh.event
    frame = pd.DataFrame({"x": sh.x, "s": sh.s, "time": t, "event": e})
    return {
        "km_g10": {
            "ours": lambda: kaplan_meier_by_group(t, e, sh.g10),
            "statsmodels": _sm_km(sh, sh.g10),
            "lifelines": _ll_km(sh, sh.g10),
        },
        "km_g50": {
            "ours": lambda: kaplan_meier_by_group(t, e, sh.g50),
            "statsmodels": _sm_km(sh, sh.g50),
            "lifelines": _ll_km(sh, sh.g50),
        },
        "logrank_g10": {
            "ours": lambda: logrank_test(t, e, sh.g10),
            "statsmodels": lambda: survdiff(t, e, sh.g10),
            "lifelines": lambda: multivariate_logrank_test(t, sh.g10, e),
        },
        "logrank_strata": {
            "ours": lambda: logrank_test(t, e, sh.g2, strata=sh.s),
            "statsmodels": lambda: survdiff(t, e, sh.g2, strata=sh.s),
        },
        "cox_strata": {
            "ours": lambda: fit_cox(t, e, sh.x[:, None], strata=sh.s, concordance=False),
            "ours + C": lambda: fit_cox(t, e, sh.x[:, None], strata=sh.s),
            "statsmodels": lambda: PHReg(
                t, sh.x[:, None], status=e, strata=sh.s, ties="efron"
            ).fit(),
            "lifelines": lambda: CoxPHFitter().fit(frame, "time", "event", strata=["s"]),
        },
    }


TASK_NAMES = {
    "km_g10": "KM, 10 groups, median + CI",
    "km_g50": "KM, 50 groups, median + CI",
    "logrank_g10": "log-rank, 10 groups",
    "logrank_strata": "stratified log-rank, 2 groups × 10 strata",
    "cox_strata": "stratified Cox Efron p = 1, 10 strata",
}


def run_r(sh: Shape, work: Path) -> dict[str, tuple[float, np.ndarray]]:
    """R's CPU seconds and answers per task (empty when Rscript fails)."""
    csv = work / "shape.csv"
    cols = np.column_stack([sh.time, sh.event, sh.g2, sh.g10, sh.g50, sh.s, sh.x])
    np.savetxt(csv, cols, fmt=["%.17g", "%d", "%d", "%d", "%d", "%d", "%d"], delimiter=",",
               header="time,event,g2,g10,g50,s,x", comments="")  # fmt: skip
    script = work / "shapes.R"
    script.write_text(R_SCRIPT)
    try:
        done = subprocess.run(
            ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        print("R failed:", exc, flush=True)
        return {}
    out = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out[parts[0]] = (float(parts[1]), np.array([float(v) for v in parts[2:]]))
    return out


def _ours_values(task: str, result: object) -> np.ndarray:
    """Our answer in the layout of R's output line for ``task``."""
    if task.startswith("km_"):
        assert isinstance(result, dict)
        return np.array(
            [[c.median.estimate, c.median.lower, c.median.upper] for c in result.values()],
            dtype=float,
        ).ravel()
    if task.startswith("logrank"):
        return np.array([result.chi2])  # type: ignore[attr-defined]
    return np.asarray(result.coef, dtype=float)  # type: ignore[attr-defined]


def _agreement(task: str, ours: np.ndarray, theirs: np.ndarray) -> str:
    """Largest difference from R (relative for the chi-square), NaN positions must match."""
    if ours.shape != theirs.shape or not np.array_equal(np.isnan(ours), np.isnan(theirs)):
        return "MISMATCH"
    ok = ~np.isnan(ours)
    diff = np.abs(ours[ok] - theirs[ok])
    if task.startswith("logrank"):
        diff = diff / np.abs(theirs[ok])
    return f"{float(diff.max(initial=0.0)):.1e}"


def bench(n: int, kind: str, skip: set[str]) -> list[Row]:
    """Every task on one data set: ours, statsmodels, lifelines and R."""
    sh = make_shape(n, kind)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for task, fns in tools(sh).items():
            row = Row(n, kind, task)
            row.ours_result = fns["ours"]()
            for who, fn in fns.items():
                if f"{task}:{who}" in skip:
                    continue
                row.seconds[who] = cpu_seconds(fn)
            print(n, kind, task, row.seconds, flush=True)
            rows.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        r = run_r(sh, Path(tmp))
    for row in rows:
        if row.task in r:
            row.seconds["R"], theirs = r[row.task]
            row.agreement = _agreement(row.task, _ours_values(row.task, row.ours_result), theirs)
    return rows


def too_slow(rows: list[Row], limit: float, skip: set[str]) -> list[str]:
    """Add to ``skip`` the Python peers that would exceed ``limit`` at ten times the rows."""
    notes = []
    for row in rows:
        for who, seconds in row.seconds.items():
            key = f"{row.task}:{who}"
            if who in ("statsmodels", "lifelines") and seconds * 10 > limit and key not in skip:
                skip.add(key)
                notes.append(
                    f"{who} took {seconds:.0f} s on {TASK_NAMES[row.task]} at {row.n:,} rows"
                    f" ({row.kind}): not run on that task at larger sizes."
                )
    return notes


def _ratio(row: Row) -> str:
    """Fastest peer over ours; R's Cox is set against ours with the concordance (R
    ``coxph`` always computes it), the other peers against our fit alone."""
    speeds = {}
    for who in PEERS:
        if who in row.seconds:
            ours = row.seconds.get("ours + C", row.seconds["ours"]) if who == "R" else None
            speeds[who] = row.seconds[who] / (ours or row.seconds["ours"])
    if not speeds:
        return "–"
    who = min(speeds, key=speeds.__getitem__)
    speed = speeds[who]
    word = f"{speed:.1f}× faster" if speed >= 1 else f"{1 / speed:.1f}× slower"
    return f"{word} ({who})"


def render(rows: list[Row], header: str) -> str:
    """The markdown table of one run."""
    lines = [
        "# Survival on more shapes (one run, all peers side by side)",
        "",
        header,
        "",
        "| n | times | task | rechallenge | statsmodels | lifelines | R | ours vs fastest peer"
        " | max diff vs R |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ours = f"{row.seconds['ours']:.4f}"
        if "ours + C" in row.seconds:
            ours += f" (+ C: {row.seconds['ours + C']:.3f})"
        cells = [f"{row.seconds[w]:.4f}" if w in row.seconds else "–" for w in PEERS]
        lines.append(
            f"| {row.n:,} | {row.kind} | {TASK_NAMES[row.task]} | {ours} | "
            + " | ".join(cells)
            + f" | {_ratio(row)} | {row.agreement} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5,6", help="powers of ten, comma-separated")
    parser.add_argument("--kinds", default="days,continuous")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--peer-limit", type=float, default=120.0, help="seconds")
    args = parser.parse_args()
    import lifelines
    import statsmodels

    load = os.getloadavg()
    header = (
        "CPU seconds, best of 3 under 1 s; R timed inside R, `timefix = FALSE`."
        f" pandas {pd.__version__}, numpy {np.__version__}, statsmodels"
        f" {statsmodels.__version__}, lifelines {lifelines.__version__};"
        f" load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f};"
        f" CPUs allowed: {sorted(os.sched_getaffinity(0))}."
    )
    rows: list[Row] = []
    skip: set[str] = set()
    notes: list[str] = []
    for power in (int(p) for p in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            done = bench(10**power, kind, skip)
            rows += done
            notes += too_slow(done, args.peer_limit, skip)
    end = os.getloadavg()
    header += f" Load average at end {end[0]:.2f}, {end[1]:.2f}, {end[2]:.2f}."
    report = render(rows, header) + "".join(f"\n{note}\n" for note in notes)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
