"""Speed of Kaplan–Meier (median + CI) and 2-group log-rank against peers and a numpy floor.

Run on demand:  ``.venv/bin/python -m benchmarks.bench_km_logrank [--sizes 4,5,6,7] [--reps 5]``

Data: ``benchmarks.synth.synthetic_survival(n)`` (whole days, heavy ties, two groups).
Timings are in-process seconds, median of ``--reps`` runs. R is timed inside R
(``system.time`` around ``survfit`` + ``print`` table / ``survdiff``) on a CSV written
once. Writes ``benchmarks/results/km_logrank.md``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.synth import synthetic_survival
from rechallenge.stats.km import kaplan_meier_by_group
from rechallenge.stats.logrank import logrank_test

RESULTS = Path(__file__).resolve().parent / "results" / "km_logrank.md"
SLOW_PEER_LIMIT = 10**6  # lifelines/statsmodels/R are skipped above this size


def _median_time(fn: Callable[[], object], reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _floor(t: np.ndarray, e: np.ndarray) -> Callable[[], object]:
    return lambda: np.cumsum(e[np.argsort(t)])


def _statsmodels(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], object]]:
    try:
        from statsmodels.duration.survfunc import SurvfuncRight, survdiff
    except ImportError:
        return {}

    def km() -> None:
        for k in (0, 1):
            m = g == k
            sf = SurvfuncRight(t[m], e[m])
            sf.quantile(0.5)
            sf.quantile_ci(0.5, method="log")

    return {"km": km, "logrank": lambda: survdiff(t, e, g)}


def _lifelines(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], object]]:
    try:
        from lifelines import KaplanMeierFitter
        from lifelines.statistics import logrank_test as ll_logrank
        from lifelines.utils import median_survival_times
    except ImportError:
        return {}

    def km() -> None:
        for k in (0, 1):
            m = g == k
            f = KaplanMeierFitter().fit(t[m], e[m])
            median_survival_times(f.confidence_interval_)

    def lr() -> None:
        a, b = g == 0, g == 1
        ll_logrank(t[a], t[b], e[a], e[b])

    return {"km": km, "logrank": lr}


R_SCRIPT = """
suppressPackageStartupMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1]); reps <- as.integer(commandArgs(TRUE)[2])
tk <- tl <- numeric(reps)
for (i in seq_len(reps)) {
  tk[i] <- system.time({f <- survfit(Surv(time, event) ~ group, data = d);
                        s <- summary(f)$table})[["elapsed"]]
  tl[i] <- system.time(survdiff(Surv(time, event) ~ group, data = d))[["elapsed"]]
}
cat(median(tk), median(tl), "\\n")
"""


def _r_times(t: np.ndarray, e: np.ndarray, g: np.ndarray, reps: int) -> tuple[float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        script = Path(tmp) / "bench.R"
        np.savetxt(csv, np.column_stack([t, e, g]), fmt="%d", delimiter=",",
                   header="time,event,group", comments="")  # fmt: skip
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            ["Rscript", str(script), str(csv), str(reps)],
            capture_output=True, text=True, check=True, timeout=1800,
        )  # fmt: skip
    km_s, lr_s = (float(v) for v in out.stdout.split())
    return km_s, lr_s


def run(sizes: list[int], reps: int) -> str:
    """Time every tool at every size; return the markdown report."""
    rows: list[tuple[int, str, str, float]] = []
    for n in sizes:
        d = synthetic_survival(n)
        t, e, g = d.time, d.event, d.group
        floor = _median_time(_floor(t, e), reps)
        rows.append((n, "numpy floor (argsort + cumsum)", "-", floor))
        ours_km = _median_time(lambda t=t, e=e, g=g: kaplan_meier_by_group(t, e, g), reps)
        ours_lr = _median_time(lambda t=t, e=e, g=g: logrank_test(t, e, g), reps)
        rows += [(n, "rechallenge", "km", ours_km), (n, "rechallenge", "logrank", ours_lr)]
        tf = t + 0.25  # non-integer times: the argsort path instead of day counting
        ours_km_f = _median_time(lambda tf=tf, e=e, g=g: kaplan_meier_by_group(tf, e, g), reps)
        ours_lr_f = _median_time(lambda tf=tf, e=e, g=g: logrank_test(tf, e, g), reps)
        rows += [
            (n, "rechallenge (non-integer times)", "km", ours_km_f),
            (n, "rechallenge (non-integer times)", "logrank", ours_lr_f),
        ]
        if n <= SLOW_PEER_LIMIT:
            for name, fns in (("statsmodels", _statsmodels(t, e, g)),
                              ("lifelines", _lifelines(t, e, g))):  # fmt: skip
                for task, fn in fns.items():
                    rows.append((n, name, task, _median_time(fn, max(1, reps // 2))))
            r = _r_times(t, e, g, max(1, reps // 2))
            if r is not None:
                rows += [(n, "R survival 3.5", "km", r[0]), (n, "R survival 3.5", "logrank", r[1])]
        print(f"n={n:>9,} done", flush=True)
    floors = {n: s for n, who, _, s in rows if who.startswith("numpy")}
    lines = [
        "# KM (2 groups, median + CI) and 2-group log-rank: seconds (ratio to numpy floor)",
        "",
        f"Median of {reps} runs (peers: {max(1, reps // 2)}); data `synthetic_survival(n)`.",
        f"Peers and R skipped above n = {SLOW_PEER_LIMIT:,} (too slow to repeat).",
        "",
        "| n | tool | task | seconds | x floor |",
        "|---|---|---|---|---|",
    ]
    for n, who, task, s in rows:
        lines.append(f"| {n:,} | {who} | {task} | {s:.4f} | {s / floors[n]:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="4,5,6,7", help="powers of ten, comma-separated")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    sizes = [10 ** int(p) for p in args.sizes.split(",")]
    report = run(sizes, args.reps)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
