"""Counting-process Cox and the Aalen–Johansen CIF against R and lifelines, one run.

Run on demand:  ``.venv/bin/python -m benchmarks.bench_counting [--sizes 5,6] [--reps 3]``

Data (seeded, continuous times):

- **Counting process**: each subject has one or two ``(start, stop]`` rows: delayed entry
  for a third of them (left truncation) and a split at a random time for another third,
  with a time-varying covariate that changes at the split, plus a fixed covariate;
  ``n`` is the number of rows.
- **Competing risks**: exponential times of two causes and censoring, status 0/1/2, two
  groups; ``n`` rows.

Timed: ``fit_cox(start=...)`` against R ``coxph(Surv(start, stop, event) ~ x1 + x2)`` and
lifelines ``CoxTimeVaryingFitter``; ``cumulative_incidence(group=...)`` (curves, variances
and Gray's test) against R ``cmprsk::cuminc`` and lifelines ``AalenJohansenFitter`` (one
cause per fit, no test, so it does less work). R is timed inside R (``system.time``) on a
CSV written once. Seconds are CPU seconds (ours: ``time.process_time``; R: user + system
of ``system.time``). A peer that would exceed ``--peer-limit`` seconds on a smaller size is
skipped at the larger sizes and said so. Seconds are medians of ``--reps`` runs (peers:
one run at 10^6). Coefficients and CIF values at 0.5, 1 and 2 are compared with R's in the same run
(largest absolute difference).
Writes ``benchmarks/results/counting.md``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rechallenge.stats.competing import cumulative_incidence
from rechallenge.stats.cox import fit_cox

RESULTS = Path(__file__).resolve().parent / "results" / "counting.md"


def median_seconds(fn: Callable[[], object], reps: int) -> float:
    """Median CPU seconds (``time.process_time``) of ``reps`` calls after a warm-up call."""
    fn()
    values = []
    for _ in range(reps):
        start = time.process_time()
        fn()
        values.append(time.process_time() - start)
    return statistics.median(values)


R_COX = r"""
suppressMessages(library(survival))
a <- commandArgs(TRUE); d <- read.csv(a[1]); reps <- as.integer(a[2])
cpu <- function(s) s[["user.self"]] + s[["sys.self"]]
tt <- replicate(reps, cpu(system.time(f <<- coxph(Surv(start, stop, event) ~ x1 + x2, data = d,
  ties = "efron"))))
cat("TIME", median(tt), "\n"); cat("COEF", format(coef(f), digits = 17), "\n")
"""

R_CIF = r"""
suppressMessages(library(cmprsk))
a <- commandArgs(TRUE); d <- read.csv(a[1]); reps <- as.integer(a[2])
cpu <- function(s) s[["user.self"]] + s[["sys.self"]]
tt <- replicate(reps, cpu(system.time(f <<- cuminc(d$time, d$status, d$group))))
cat("TIME", median(tt), "\n")
tp <- timepoints(f, c(0.5, 1, 2))$est
cat("EST", format(as.vector(t(tp)), digits = 17), "\n")
"""


def counting_data(n: int, seed: int = 1) -> pd.DataFrame:
    """About ``n`` (start, stop] rows: delayed entry, one split with a time-varying x1."""
    rng = np.random.default_rng(seed)
    subjects = int(n / 4 * 3)
    x2 = rng.standard_normal(subjects)
    x1_before = rng.binomial(1, 0.4, subjects).astype(float)
    x1_after = np.where(rng.random(subjects) < 0.5, 1.0 - x1_before, x1_before)
    stop = rng.exponential(1.0, subjects) * np.exp(-0.3 * x2 - 0.4 * x1_before)
    event = (rng.random(subjects) < 0.75).astype(np.int8)
    kind = rng.integers(0, 3, subjects)  # 0 plain, 1 delayed entry, 2 split
    entry = np.where(kind == 1, stop * rng.uniform(0.05, 0.6, subjects), 0.0)
    split = stop * rng.uniform(0.2, 0.8, subjects)
    plain = kind != 2
    first = pd.DataFrame(
        {
            "start": np.where(plain, entry, 0.0),
            "stop": np.where(plain, stop, split),
            "event": np.where(plain, event, 0),
            "x1": x1_before,
            "x2": x2,
        }
    )
    second = pd.DataFrame(
        {
            "start": split[~plain],
            "stop": stop[~plain],
            "event": event[~plain],
            "x1": x1_after[~plain],
            "x2": x2[~plain],
        }
    )
    second.insert(0, "id", np.flatnonzero(~plain))
    first.insert(0, "id", np.arange(subjects))
    return pd.concat([first, second], ignore_index=True)


def competing_data(n: int, seed: int = 2) -> pd.DataFrame:
    """``n`` rows of two competing causes and censoring, two groups."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    t1 = rng.exponential(np.where(group == 1, 1.3, 1.0))
    t2 = rng.exponential(2.0, n)
    c = rng.exponential(3.0, n)
    time_ = np.minimum(np.minimum(t1, t2), c)
    status = np.where(time_ == c, 0, np.where(time_ == t1, 1, 2))
    return pd.DataFrame({"time": time_, "status": status, "group": group})


def run_r(script: str, csv: Path, reps: int) -> dict[str, list[str]] | None:
    """Run an R timing script; None when R or the package is missing."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(script)
    try:
        done = subprocess.run(
            ["Rscript", fh.name, str(csv), str(reps)], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return {ln.split()[0]: ln.split()[1:] for ln in done.stdout.splitlines() if ln.strip()}


def bench_cox(n: int, reps: int, work: Path, skip_lifelines: bool) -> dict[str, object]:
    """Counting-process Cox: ours, R, lifelines."""
    d = counting_data(n)
    x = d[["x1", "x2"]]
    ours = fit_cox(d["stop"], d["event"], x, start=d["start"], concordance=False, timefix=True)
    row: dict[str, object] = {"task": "Cox (start, stop], p = 2", "rows": len(d)}
    row["ours"] = median_seconds(
        lambda: fit_cox(
            d["stop"], d["event"], x, start=d["start"], concordance=False, timefix=True
        ),
        reps,
    )
    csv = work / f"counting_{n}.csv"
    d.to_csv(csv, index=False)
    r = run_r(R_COX, csv, 1 if n >= 10**6 else reps)
    if r is not None:
        row["r"] = float(r["TIME"][0])
        coef = np.array([float(v) for v in r["COEF"]])
        row["agreement"] = float(np.max(np.abs(np.asarray(ours.coef) - coef)))
    if not skip_lifelines:
        from lifelines import CoxTimeVaryingFitter

        def lifelines_fit() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                CoxTimeVaryingFitter().fit(
                    d, id_col="id", event_col="event", start_col="start", stop_col="stop"
                )

        row["lifelines"] = median_seconds(lifelines_fit, 1 if n >= 10**6 else reps)
    return row


def bench_cif(n: int, reps: int, work: Path, skip_lifelines: bool) -> dict[str, object]:
    """Aalen–Johansen CIF by group with Gray's test: ours, R cmprsk, lifelines."""
    d = competing_data(n)
    t, s, g = d["time"].to_numpy(), d["status"].to_numpy(), d["group"].to_numpy()
    row: dict[str, object] = {"task": "CIF, 2 causes x 2 groups + Gray", "rows": n}
    row["ours"] = median_seconds(lambda: cumulative_incidence(t, s, group=g), reps)
    ours = cumulative_incidence(t, s, group=g, times=(0.5, 1.0, 2.0))
    csv = work / f"competing_{n}.csv"
    d.to_csv(csv, index=False)
    r = run_r(R_CIF, csv, 1 if n >= 10**6 else reps)
    if r is not None:
        row["r"] = float(r["TIME"][0])
        theirs = np.array([float(v) for v in r["EST"]])
        mine = np.array([a["cif"] for a in ours.at_times()], dtype=float)
        if mine.shape == theirs.shape:
            row["agreement"] = float(np.max(np.abs(mine - theirs)))
    if not skip_lifelines:
        from lifelines import AalenJohansenFitter

        def lifelines_fit() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for level in (0, 1):
                    m = g == level
                    for cause in (1, 2):
                        AalenJohansenFitter(calculate_variance=True, jitter_level=0).fit(
                            t[m], s[m], event_of_interest=cause
                        )

        row["lifelines"] = median_seconds(lifelines_fit, 1 if n >= 10**6 else reps)
    return row


def _cell(row: dict[str, object], key: str) -> str:
    value = row.get(key)
    return "skipped" if value is None else f"{value:.3g} s"


def _ratio(speedup: float) -> str:
    """'3.9× faster' or '1.3× slower' (fastest peer's seconds over ours)."""
    return f"{speedup:.1f}× faster" if speedup >= 1 else f"{1 / speedup:.1f}× slower"


def render(rows: list[dict[str, object]], notes: list[str]) -> str:
    """The markdown table of one run."""
    lines = [
        "# Counting-process Cox and CIF (one run, all peers side by side)",
        "",
        "CPU seconds (ours: `time.process_time`, median of the runs; R: user + system of"
        " `system.time`).",
        "",
        "| task | rows | rechallenge | R | lifelines | ours vs fastest peer | max abs diff vs R |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        peers = [v for k in ("r", "lifelines") if isinstance(v := row.get(k), float)]
        ours = row["ours"]
        assert isinstance(ours, float)
        ratio = _ratio(min(peers) / ours) if peers else "–"
        agree = row.get("agreement")
        lines.append(
            f"| {row['task']} | {row['rows']:,} | {_cell(row, 'ours')} | {_cell(row, 'r')} | "
            f"{_cell(row, 'lifelines')} | {ratio} | "
            f"{'–' if agree is None else f'{agree:.1e}'} |"
        )
    return "\n".join([*lines, "", *notes, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5,6", help="powers of ten (rows)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--peer-limit", type=float, default=120.0)
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    slow: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for power in (int(p) for p in args.sizes.split(",")):
            n = 10**power
            for name, bench in (("cox", bench_cox), ("cif", bench_cif)):
                row = bench(n, args.reps, Path(tmp), f"{name}:lifelines" in slow)
                rows.append(row)
                print(render([row], []).splitlines()[-2], flush=True)
                lifelines_seconds = row.get("lifelines")
                if (
                    isinstance(lifelines_seconds, float)
                    and lifelines_seconds * 10 > args.peer_limit
                ):
                    slow.add(f"{name}:lifelines")
                    notes.append(
                        f"lifelines {name} took {lifelines_seconds:.0f} s at {n:,} rows: skipped "
                        "at larger sizes (it would exceed the peer limit)."
                    )
    RESULTS.write_text(render(rows, notes), encoding="utf-8")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
