"""Cox PH speed against lifelines, statsmodels and R survival, on the shared synthetic data.

Run on demand:  .venv/bin/python -m benchmarks.bench_cox [--quick]

For n = 10^4, 10^5, 10^6 and p = 1, 10 (Efron; Breslow too for p = 10) it times, in one
process run so the ratios are comparable:

- ours: ``fit_cox(..., concordance=False)`` (the fit alone, what lifelines and
  statsmodels compute) and ``fit_cox(...)`` (default, with Harrell's C and its SE, which
  R ``coxph`` always computes);
- lifelines ``CoxPHFitter().fit(..., batch_mode=True)`` and its default;
- statsmodels ``PHReg(...).fit()``;
- R ``coxph`` timed inside R (``system.time``) on a CSV written once.

Each time is the median of several runs (fewer for slow peers at 10^6; the table says
how many). It also measures our peak extra memory with ``tracemalloc`` relative to the
input arrays, and the largest relative difference of our coefficients from R's.
Results go to ``benchmarks/results/cox.md``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.synth import synthetic_survival
from rechallenge.stats.cox import fit_cox

RESULTS = Path(__file__).resolve().parent / "results" / "cox.md"

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); ties <- args[3]
covs <- setdiff(names(d), c("time", "event"))
f <- as.formula(paste("Surv(time, event) ~", paste(covs, collapse = " + ")))
times <- numeric(reps)
for (i in seq_len(reps)) {
  times[i] <- system.time(fit <- coxph(f, data = d, ties = ties))[["elapsed"]]
}
cat("TIME", median(times), "\n")
cat("COEF", sprintf("%.17g", coef(fit)), "\n")
"""


@dataclass(frozen=True)
class Timing:
    """Median seconds over ``runs`` repetitions."""

    seconds: float
    runs: int


def timed(fn: Callable[[], object], runs: int) -> Timing:
    """Median wall time of ``runs`` calls."""
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        values.append(time.perf_counter() - start)
    return Timing(statistics.median(values), runs)


def time_r(frame_csv: Path, runs: int, ties: str) -> tuple[Timing, np.ndarray]:
    """R coxph in-process time and coefficients."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_SCRIPT)
    out = subprocess.run(
        ["Rscript", fh.name, str(frame_csv), str(runs), ties],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fields = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    return Timing(float(fields["TIME"][0]), runs), np.array([float(v) for v in fields["COEF"]])


def peak_memory_ratio(
    t: np.ndarray, e: np.ndarray, x: np.ndarray, ties: str, concordance: bool
) -> float:
    """Peak memory allocated during a fit, relative to the input arrays."""
    tracemalloc.start()
    fit_cox(t, e, x, ties=ties, concordance=concordance)  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / (t.nbytes + e.nbytes + x.nbytes)


def bench_one(n: int, p: int, ties: str, quick: bool, workdir: Path) -> dict[str, object]:
    """All timings for one (n, p, ties) cell."""
    data = synthetic_survival(n, p)
    t, e, x = data.time, data.event, np.ascontiguousarray(data.covariates)
    big = n >= 10**6
    ours_runs, slow_runs = (3, 1) if quick else (7, 1 if big else 3)
    row: dict[str, object] = {"n": n, "p": p, "ties": ties}
    row["ours_fit"] = timed(lambda: fit_cox(t, e, x, ties=ties, concordance=False), ours_runs)  # type: ignore[arg-type]
    row["ours_default"] = timed(lambda: fit_cox(t, e, x, ties=ties), max(1, ours_runs // 2))  # type: ignore[arg-type]
    ours = fit_cox(t, e, x, ties=ties, concordance=False)  # type: ignore[arg-type]
    frame = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(p)])
    frame["time"], frame["event"] = t, e
    csv = workdir / f"cox_{n}_{p}.csv"
    if not csv.exists():
        frame.to_csv(csv, index=False)
    r_time, r_coef = time_r(csv, slow_runs if big else 3, ties)
    row["r"] = r_time
    row["max_rel_diff_vs_r"] = float(np.max(np.abs(ours.coef - r_coef) / np.abs(r_coef)))
    if ties == "efron":
        row.update(_python_peers(frame, t, e, x, big, slow_runs, quick))
    row["memory_ratio"] = peak_memory_ratio(t, e, x, ties, concordance=False)
    row["memory_ratio_default"] = peak_memory_ratio(t, e, x, ties, concordance=True)
    return row


def _python_peers(
    frame: pd.DataFrame,
    t: np.ndarray,
    e: np.ndarray,
    x: np.ndarray,
    big: bool,
    slow_runs: int,
    quick: bool,
) -> dict[str, object]:
    """lifelines (batch and default) and statsmodels timings."""
    from lifelines import CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    out: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["lifelines_batch"] = timed(
            lambda: CoxPHFitter().fit(frame, "time", "event", batch_mode=True), slow_runs
        )
        skip_default = quick and big
        if not skip_default:
            out["lifelines_default"] = timed(
                lambda: CoxPHFitter().fit(frame, "time", "event"), 1 if big else slow_runs
            )
        out["statsmodels"] = timed(
            lambda: PHReg(t, x, status=e, ties="efron").fit(), 1 if big else slow_runs
        )
    return out


def render(rows: list[dict[str, object]]) -> str:
    """Markdown table of medians and ratios (peer time / our time)."""
    lines = [
        "# Cox PH benchmark",
        "",
        "Generated by `python -m benchmarks.bench_cox`; data from `benchmarks/synth.py`",
        "(exponential whole-day times, heavy ties, ~30 % censored; column 0 is a 0/1 group).",
        "Seconds are medians; `(k)` is the number of runs. *ours fit* = `concordance=False`;",
        "*ours default* adds Harrell's C and its SE (R computes it inside `coxph`;",
        "lifelines and statsmodels do not compute it during the fit). Ratios: peer / ours fit.",
        "",
        "| n | p | ties | ours fit | ours default | lifelines batch | lifelines default |"
        " statsmodels | R coxph | fastest peer / ours fit | R / ours default |"
        " peak mem / input (fit; default) | max rel diff vs R |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [str(row["n"]), str(row["p"]), str(row["ties"])]
        peers = []
        for key in (
            "ours_fit",
            "ours_default",
            "lifelines_batch",
            "lifelines_default",
            "statsmodels",
            "r",
        ):
            value = row.get(key)
            if isinstance(value, Timing):
                cells.append(f"{value.seconds:.3f} ({value.runs})")
                if key not in ("ours_fit", "ours_default"):
                    peers.append(value.seconds)
            else:
                cells.append("–")
        ours = row["ours_fit"]
        default = row["ours_default"]
        r_time = row["r"]
        assert isinstance(ours, Timing) and isinstance(default, Timing)
        assert isinstance(r_time, Timing)
        cells.append(f"{min(peers) / ours.seconds:.1f}×")
        cells.append(f"{r_time.seconds / default.seconds:.1f}×")
        cells.append(f"{row['memory_ratio']:.2f}; {row['memory_ratio_default']:.2f}")
        cells.append(f"{row['max_rel_diff_vs_r']:.1e}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the grid and write the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs, skip slow defaults")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10**4, 10**5, 10**6):
            for p, ties in ((1, "efron"), (10, "efron"), (10, "breslow")):
                row = bench_one(n, p, ties, args.quick, Path(tmp))
                print(row, flush=True)
                rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(render(rows))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
