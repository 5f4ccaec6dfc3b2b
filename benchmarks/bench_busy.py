"""Survival speed on continuous times, quiet and with a competing CPU load, all peers in one run.

Run on demand:  ``.venv/bin/python -m benchmarks.bench_busy [--n 1000000] [--reps 5]``

For each task it times rechallenge, statsmodels and lifelines twice in the same process:
once on a quiet machine and once while a child process spins in a busy loop (it keeps
one core of the 2-core machine busy, as another job would). Ours is also timed with the
BLAS thread limit switched off (the library default), to show what the limit buys.

Tasks (n rows, data ``synthetic_survival`` with times made continuous, no ties, by
subtracting a uniform fraction of a day): KM of 2 groups with median + CI, 2-group
log-rank, Cox Efron p = 1 (continuous times) and p = 1 on whole days. Seconds are
medians of ``--reps`` runs (peers: ``max(3, reps // 2)``). Writes
``benchmarks/results/busy.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.synth import synthetic_survival
from rechallenge.stats import _threads
from rechallenge.stats.cox import fit_cox
from rechallenge.stats.km import kaplan_meier_by_group
from rechallenge.stats.logrank import logrank_test

RESULTS = Path(__file__).resolve().parent / "results" / "busy.md"


def _spin() -> None:  # pragma: no cover - runs in the child
    while True:
        pass


@contextmanager
def competing_load(active: bool) -> Iterator[None]:
    """A busy-loop child process for the duration of the block (nothing when inactive)."""
    if not active:
        yield
        return
    child = mp.get_context("spawn").Process(target=_spin, daemon=True)
    child.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        child.terminate()
        child.join()


@contextmanager
def default_blas_threads() -> Iterator[None]:
    """Switch the one-thread limit off (every design counts as wide)."""
    saved = _threads.WIDE_COLUMNS
    _threads.WIDE_COLUMNS = -1
    try:
        yield
    finally:
        _threads.WIDE_COLUMNS = saved


def median_seconds(fn: Callable[[], object], reps: int) -> float:
    """Median wall time of ``reps`` calls after one warm-up call."""
    fn()
    values = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def tasks(n: int) -> dict[str, dict[str, Callable[[], object]]]:
    """Per task, the callables of every tool on the same arrays."""
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test as ll_logrank
    from lifelines.utils import median_survival_times
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    d = synthetic_survival(n, 1)
    rng = np.random.default_rng(17)
    t = d.time - rng.random(n)  # continuous: no two times equal (checked below)
    assert np.unique(t).shape[0] == n
    e, g = d.event, d.group
    x = np.ascontiguousarray(d.covariates)
    a, b = g == 0, g == 1
    frame = pd.DataFrame({"x1": x[:, 0], "time": t, "event": e})
    frame_days = pd.DataFrame({"x1": x[:, 0], "time": d.time, "event": e})

    def sm_km() -> None:
        for m in (a, b):
            sf = SurvfuncRight(t[m], e[m])
            sf.quantile(0.5)
            sf.quantile_ci(0.5, method="log")

    def ll_km() -> None:
        for m in (a, b):
            f = KaplanMeierFitter().fit(t[m], e[m])
            median_survival_times(f.confidence_interval_)

    return {
        "KM 2 groups, median + CI (continuous)": {
            "rechallenge": lambda: kaplan_meier_by_group(t, e, g),
            "statsmodels": sm_km,
            "lifelines": ll_km,
        },
        "log-rank 2 groups (continuous)": {
            "rechallenge": lambda: logrank_test(t, e, g),
            "statsmodels": lambda: survdiff(t, e, g),
            "lifelines": lambda: ll_logrank(t[a], t[b], e[a], e[b]),
        },
        "Cox Efron p = 1 (continuous)": {
            "rechallenge": lambda: fit_cox(t, e, x, concordance=False),
            "statsmodels": lambda: PHReg(t, x, status=e, ties="efron").fit(),
            "lifelines": lambda: CoxPHFitter().fit(frame, "time", "event", batch_mode=True),
        },
        "Cox Efron p = 1 (whole days)": {
            "rechallenge": lambda: fit_cox(d.time, e, x, concordance=False),
            "statsmodels": lambda: PHReg(d.time, x, status=e, ties="efron").fit(),
            "lifelines": lambda: CoxPHFitter().fit(frame_days, "time", "event", batch_mode=True),
        },
    }


def run(n: int, reps: int, only: str = "") -> str:
    """Time every tool quiet and busy (tasks whose name contains ``only``); the report."""
    peer_reps = max(3, reps // 2)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for task, tools in tasks(n).items():
            if only not in task:
                continue
            cells: dict[str, float] = {}
            for busy in (False, True):
                with competing_load(busy):
                    tag = "busy" if busy else "quiet"
                    cells[f"ours {tag}"] = median_seconds(tools["rechallenge"], reps)
                    with default_blas_threads():
                        cells[f"ours default BLAS {tag}"] = median_seconds(
                            tools["rechallenge"], reps
                        )
                    for peer in ("statsmodels", "lifelines"):
                        cells[f"{peer} {tag}"] = median_seconds(tools[peer], peer_reps)
            print(task, cells, flush=True)
            rows.append((task, cells))
    return render(rows, n, reps, peer_reps)


def render(rows: list[tuple[str, dict[str, float]]], n: int, reps: int, peer_reps: int) -> str:
    """Markdown table: seconds quiet / busy per tool, and the fastest peer over ours."""
    lines = [
        f"# Survival at n = {n:,}: quiet and with a competing CPU load (one run)",
        "",
        f"Generated by `python -m benchmarks.bench_busy`; medians of {reps} runs (peers:"
        f" {peer_reps}). *busy*: a child process spins on one core of the machine while the"
        " tool runs. *ours default BLAS*: the same code without the one-thread limit.",
        "",
        "| task | ours quiet / busy | ours default BLAS quiet / busy | statsmodels quiet / busy"
        " | lifelines quiet / busy | fastest peer / ours (quiet; busy) |",
        "|---|---|---|---|---|---|",
    ]
    for task, c in rows:
        ratio = []
        for tag in ("quiet", "busy"):
            peer = min(c[f"statsmodels {tag}"], c[f"lifelines {tag}"])
            ratio.append(f"{peer / c[f'ours {tag}']:.1f}×")
        cells = [task] + [
            f"{c[f'{who} quiet']:.3f} / {c[f'{who} busy']:.3f}"
            for who in ("ours", "ours default BLAS", "statsmodels", "lifelines")
        ]
        cells.append("; ".join(ratio))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", default="", help="run only tasks whose name contains this")
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to write")
    args = parser.parse_args()
    report = run(args.n, args.reps, args.only)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
