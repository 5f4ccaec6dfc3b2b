"""End-to-end pipeline benchmark on synthetic screening cohorts (one core).

Run on demand::

    .venv/bin/python -m benchmarks.bench_pipeline [--sizes 1000 10000 100000] [--limit 600]

For each size a cohort is written once by ``benchmarks.synthetic_cohort`` into a temporary
folder (not timed). ``rechallenge.pipeline.run_study`` then runs in a fresh child process
pinned to one CPU (``--cpu``, default 0; ``os.sched_setaffinity``), so every size has its
own peak memory (``ru_maxrss``). The child replaces ``pipeline.StageTimer`` by a subclass
that reports each stage as it ends, and times the file reading inside stage 1, which splits
``load`` into ``read`` (CSV files to raw tables) and ``validate`` (parsing, schema and
relational checks, drug classification); the patient facts (courses, RECIST/iRECIST responses,
resistance), which ``load`` derives once so that ``validate`` raises what ``run`` would, are
timed there too and counted in ``rules``, not ``validate``. Every stage also reports its CPU
seconds (``time.process_time``): on a shared machine wall time includes waiting for the core.
``untimed`` is wall time inside ``run_study`` outside the five stages (results assembly, run
log, summary table); ``derive`` includes building the ADaM datasets.

A size whose run exceeds ``--limit`` seconds is stopped (larger sizes still run, each with the
same limit); the stages it did not finish are extrapolated from the smaller sizes. Results go to
``benchmarks/results/pipeline.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.synthetic_cohort import write_synthetic_cohort

RESULTS = Path(__file__).resolve().parent / "results" / "pipeline.md"
STAGES = ("read", "validate", "rules", "derive", "statistics", "write", "untimed")
TARGET_SECONDS = 60.0
TARGET_SIZE = 100_000


@dataclass
class SizeResult:
    """One cohort size: its rows, stage seconds and resources (or how far it got)."""

    n: int
    rows: dict[str, int]
    generate_seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    cpu_stages: dict[str, float] = field(default_factory=dict)
    total: float | None = None
    cpu: float | None = None
    peak_mb: float | None = None
    included: int | None = None
    status: str = "ok"


# ------------------------------------------------------------------------------ child process


def _child(data: Path, out: Path, report: Path, cpu: int) -> None:
    """Run the pipeline once on one CPU, appending one JSON line per finished stage to `report`."""
    import resource

    from rechallenge import pipeline
    from rechallenge.config import StudyConfig
    from rechallenge.data import validate

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})

    def emit(record: dict[str, object]) -> None:
        with report.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(record) + "\n")

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    emit({"affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []})

    class ReportingTimer(pipeline.StageTimer):
        """A StageTimer that reports every stage (wall and CPU seconds) as soon as it ends."""

        @contextmanager
        def stage(self, name: str) -> Iterator[None]:
            cpu = time.process_time()
            with super().stage(name):
                yield
            emit(
                {
                    "stage": name,
                    "seconds": self.seconds[name],
                    "cpu": time.process_time() - cpu,
                    "peak_mb": peak_mb(),
                }
            )

    def timed(name: str, function: Any) -> Any:
        """`function`, reporting the wall and CPU seconds of its first call as stage `name`
        (the facts are derived in `load`; the call in `rules` reuses them and is timed there)."""
        calls = 0

        def run(*args: object, **kwargs: object) -> object:
            nonlocal calls
            start, cpu = time.perf_counter(), time.process_time()
            value = function(*args, **kwargs)
            seconds = time.perf_counter() - start
            calls += 1
            if calls == 1:
                emit(
                    {
                        "stage": name,
                        "seconds": seconds,
                        "cpu": time.process_time() - cpu,
                        "peak_mb": peak_mb(),
                    }
                )
            return value

        return run

    pipeline.StageTimer = ReportingTimer  # type: ignore[misc]
    validate.read_study_files = timed("read", validate.read_study_files)  # type: ignore[attr-defined]
    from rechallenge.sources.omop.source import OmopSource

    OmopSource.read = timed("read", OmopSource.read)  # type: ignore[method-assign]
    # the facts are derived inside `load`: their time moves from `validate` to `rules`
    facts = timed("facts", pipeline.derive_patient_facts)  # type: ignore[attr-defined]
    pipeline.derive_patient_facts = facts  # type: ignore[attr-defined]
    start_cpu = time.process_time()
    start = time.perf_counter()
    results = pipeline.run_study(data, out, StudyConfig())
    total = time.perf_counter() - start
    emit(
        {
            "total": total,
            "cpu": time.process_time() - start_cpu,
            "peak_mb": peak_mb(),
            "included": results["cohort"]["included"],
        }
    )


# ------------------------------------------------------------------------------ parent


def _run_size(
    n: int, seed: int, limit: float, workdir: Path, cpu: int, omop: bool = False, share: int = 10
) -> SizeResult:
    """Write the cohort (CSV, or with `omop` a CDM of n persons as Parquet), then run it."""
    data, out, report = workdir / f"data_{n}", workdir / f"out_{n}", workdir / f"report_{n}.jsonl"
    start = time.perf_counter()
    rows = _write_omop(data, n, share) if omop else write_synthetic_cohort(data, n, seed)
    result = SizeResult(n, rows, time.perf_counter() - start)
    env = os.environ | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "benchmarks.bench_pipeline", "--child"]
    command += [str(data), str(out), str(report), "--cpu", str(cpu)]
    root = Path(__file__).resolve().parents[1]
    try:
        subprocess.run(command, check=True, timeout=limit, env=env, cwd=root)
    except subprocess.TimeoutExpired:
        result.status = f"stopped after {limit:.0f} s"
    except subprocess.CalledProcessError as error:
        result.status = f"failed (exit {error.returncode})"
    for line in report.read_text(encoding="utf-8").splitlines() if report.exists() else []:
        record = json.loads(line)
        if "stage" in record:
            name = record["stage"]
            result.stages[name] = result.stages.get(name, 0.0) + float(record["seconds"])
            result.cpu_stages[name] = result.cpu_stages.get(name, 0.0) + float(record["cpu"])
        elif "total" in record:
            result.total = float(record["total"])
            result.cpu = float(record["cpu"])
            result.peak_mb = float(record["peak_mb"])
            result.included = int(record["included"])
    for stages, total in ((result.stages, result.total), (result.cpu_stages, result.cpu)):
        _split_load(stages, total)
    return result


def _write_omop(folder: Path, persons: int, share: int = 10) -> dict[str, int]:
    """A synthetic OMOP CDM of `persons` (one in `share` a study person, who enters
    screening) as Parquet tables."""
    from benchmarks import omop_synth

    rows = omop_synth.write(folder, persons, share=share)
    return {"omop_rows": rows, "screened": len(range(0, persons, share))}


def _split_load(stages: dict[str, float], total: float | None) -> None:
    """`load` minus `read` and the facts is `validate`; the facts count in `rules`."""
    facts = stages.pop("facts", 0.0)
    if "load" in stages and "read" in stages:
        stages["validate"] = stages.pop("load") - stages["read"] - facts
    if "rules" in stages or facts:
        stages["rules"] = stages.get("rules", 0.0) + facts
    if total is not None:
        timed = sum(v for k, v in stages.items() if k != "untimed")
        stages["untimed"] = max(total - timed, 0.0)


def _nlogn(n: int) -> float:
    return n * math.log(n)


def _exponent(small: SizeResult, large: SizeResult, key: str | None = None) -> float | None:
    a = small.total if key is None else small.stages.get(key)
    b = large.total if key is None else large.stages.get(key)
    if not a or not b:
        return None
    return math.log(b / a) / math.log(large.n / small.n)


def _cell(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _machine(cpu: int) -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import numpy
    import pandas

    return (
        f"{model}, {os.cpu_count()} logical CPUs (runs pinned to CPU {cpu}); Python "
        f"{platform.python_version()}, pandas {pandas.__version__}, numpy {numpy.__version__}"
    )


def source_state() -> str:
    """The commit benchmarked and the source files that differed from it."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout.rstrip()  # porcelain lines start with a space

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "src").splitlines()
    if not changed:
        return f"commit {commit}"
    files = ", ".join(f"`{line[3:]}`" for line in changed)
    return f"commit {commit} with uncommitted changes in {files}"


def render(results: list[SizeResult], seed: int, limit: float, source: str, cpu: int) -> str:
    """The markdown report."""
    lines = [
        "# Pipeline end to end on synthetic cohorts: seconds per stage (one core)",
        "",
        f"Machine: {_machine(cpu)}.",
        f"Source: {source} (when the run started).",
        f"Data: `benchmarks.synthetic_cohort.write_synthetic_cohort(folder, n, seed={seed})`, "
        "written before timing. Each size runs `run_study` once in a fresh process pinned to "
        f"CPU {cpu}; a run is stopped after {limit:.0f} s. `load` = `read` (CSV files to raw "
        "tables) + `validate` (parsing, schema and relational checks, drug classes) + the "
        "patient facts (courses, responses, resistance), which are counted in `rules` with the "
        "cohort selection; `untimed` is time inside `run_study` outside the stage timers "
        "(results assembly, run log, summary table); `derive` includes building the ADaM datasets.",
        "",
        "| screened n | treatments | lesions | AEs | labs | included | read | validate | rules "
        "| derive | statistics | write | untimed | total | CPU s | peak RSS MB | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = [
            f"{r.n:,}",
            f"{r.rows['treatments']:,}",
            f"{r.rows['lesions']:,}",
            f"{r.rows['adverse_events']:,}",
            f"{r.rows['labs']:,}",
            "–" if r.included is None else f"{r.included:,}",
            *(_cell(r.stages.get(s)) for s in STAGES),
            _cell(r.total),
            _cell(r.cpu),
            _cell(r.peak_mb, 0),
            r.status,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## CPU seconds per stage",
        "",
        "The same runs in CPU seconds of the pipeline process (`time.process_time`); on a "
        "shared machine the wall times above include waiting for the core.",
        "",
        "| screened n | " + " | ".join(STAGES) + " | total |",
        "|---|" + "---|" * (len(STAGES) + 1),
    ]
    for r in results:
        cells = [f"{r.n:,}", *(_cell(r.cpu_stages.get(s)) for s in STAGES), _cell(r.cpu)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Growth between sizes",
        "",
        "Exponent k in time ∝ n^k between consecutive sizes (per stage where both finished "
        "it); n log n corresponds to k slightly above 1 (the n log n ratio is given).",
        "",
        "| from → to | n ratio | n log n ratio | total ratio | k total | "
        + " | ".join(f"k {s}" for s in STAGES)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(STAGES),
    ]
    for small, large in pairwise(results):
        ks = [_exponent(small, large, s) for s in STAGES]
        ratio = large.total / small.total if large.total and small.total else None
        lines.append(
            f"| {small.n:,} → {large.n:,} | {large.n / small.n:.3g} | "
            f"{_nlogn(large.n) / _nlogn(small.n):.1f} | {_cell(ratio, 1)} | "
            f"{_cell(_exponent(small, large))} | " + " | ".join(_cell(k) for k in ks) + " |"
        )
    lines += ["", "## Target", ""]
    lines += _verdict(results)
    return "\n".join(lines) + "\n"


def _stage_estimate(results: list[SizeResult], n: int, stage: str) -> tuple[float, str] | None:
    """Seconds of one stage at size n: measured, else extrapolated from the two largest sizes
    that measured it (their exponent), else linear from the largest one."""
    measured = [r for r in results if stage in r.stages and r.n < n]
    if not measured:
        return None
    large = measured[-1]
    k = _exponent(measured[-2], large, stage) if len(measured) >= 2 else None
    k = 1.0 if k is None else max(k, 1.0)
    return large.stages[stage] * (n / large.n) ** k, f"k = {k:.2f} from n = {large.n:,}"


def _verdict(results: list[SizeResult]) -> list[str]:
    out = []
    for r in results:
        if r.total is not None:
            if r.n == TARGET_SIZE:
                met = "met" if r.total < TARGET_SECONDS else "NOT met"
                out.append(
                    f"{r.n:,} screened patients end to end: {r.total:.1f} s "
                    f"(target < {TARGET_SECONDS:.0f} s): {met}."
                )
            continue
        parts, total = [], 0.0
        for stage in STAGES[:-1]:
            if stage in r.stages:
                total += r.stages[stage]
                parts.append(f"{stage} {r.stages[stage]:,.1f} s measured")
                continue
            estimate = _stage_estimate(results, r.n, stage)
            if estimate is None:
                parts.append(f"{stage} unknown")
                continue
            total += estimate[0]
            parts.append(f"{stage} ~{estimate[0]:,.0f} s ({estimate[1]})")
        verdict = "NOT met" if r.n == TARGET_SIZE else "for reference"
        out.append(
            f"{r.n:,} screened patients ({r.status}): about {total:,.0f} s end to end "
            f"(target < {TARGET_SECONDS:.0f} s at {TARGET_SIZE:,}: {verdict}); "
            + "; ".join(parts)
            + "."
        )
    return out or [f"{TARGET_SIZE:,} was not run."]


def render_omop(
    results: list[SizeResult], limit: float, source: str, cpu: int, share: int = 10
) -> str:
    """The markdown report of the OMOP runs: seconds and CPU seconds per stage, peak memory."""
    stages = ("read", "validate", "rules", "derive", "statistics", "write", "untimed")
    lines = [
        "# Pipeline end to end from an OMOP CDM: seconds per stage (one core)",
        "",
        f"Machine: {_machine(cpu)}.",
        f"Source: {source} (when the run started).",
        f"Data: `benchmarks.omop_synth.write(folder, persons, share={share})` (one person in "
        f"{share} a study person, who enters screening; Parquet), written before timing. "
        "Each size runs "
        f"`run_study(folder, out)` once in a fresh process pinned to CPU {cpu} (stopped after "
        f"{limit:.0f} s): `read` = `OmopSource.read()` (the queries in DuckDB and building the "
        "data-model tables), `validate` = the rest of stage 1 (validation and cut-off; the "
        "patient facts are counted in `rules`), `untimed` = results assembly, run log and summary.",
        "",
        "| OMOP persons | rows | screened | included | "
        + " | ".join(stages)
        + " | total | CPU s | peak RSS MB | status |",
        "|---|---|---|---|" + "---|" * (len(stages) + 4),
    ]
    for r in results:
        cells = [
            f"{r.n:,}",
            f"{r.rows['omop_rows']:,}",
            f"{r.rows['screened']:,}",
            "–" if r.included is None else f"{r.included:,}",
            *(_cell(r.stages.get(s)) for s in stages),
            _cell(r.total),
            _cell(r.cpu),
            _cell(r.peak_mb, 0),
            r.status,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "CPU seconds per stage:", "", "| OMOP persons | " + " | ".join(stages) + " |"]
    lines.append("|---|" + "---|" * len(stages))
    for r in results:
        cells = [f"{r.n:,}", *(_cell(r.cpu_stages.get(s)) for s in stages)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command line: generate, time, write the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=float, default=600.0, help="seconds per size")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--cpu", type=int, default=0, help="the one CPU the pipeline runs on")
    parser.add_argument(
        "--omop",
        action="store_true",
        help="sizes are OMOP persons: a synthetic CDM as Parquet (benchmarks.omop_synth), "
        "run end to end from the OMOP source (results to pipeline-omop.md)",
    )
    parser.add_argument(
        "--share", type=int, default=10, help="with --omop: OMOP persons per study person"
    )
    parser.add_argument("--child", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.omop and args.results == RESULTS:
        args.results = RESULTS.with_name("pipeline-omop.md")
    if args.child:
        data, out, report = args.child
        _child(data, out, report, cpu=args.cpu)
        return
    results: list[SizeResult] = []
    source = source_state()
    with tempfile.TemporaryDirectory(prefix="rechallenge-bench-") as tmp:
        for n in sorted(args.sizes):
            result = _run_size(n, args.seed, args.limit, Path(tmp), args.cpu, args.omop, args.share)
            results.append(result)
            print(f"n={n:,}: {result.status}, total {_cell(result.total)} s, {result.stages}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    text = (
        render_omop(results, args.limit, source, args.cpu, args.share)
        if args.omop
        else render(results, args.seed, args.limit, source, args.cpu)
    )
    args.results.write_text(text, encoding="utf-8")
    print(f"written {args.results}")


if __name__ == "__main__":
    main()
