"""The study pipeline: data folder -> validated study -> cohort -> endpoints -> results -> outputs.

Stages (each timed and shown with a progress bar):

1. load and validate the study tables;
2. derive per-patient facts (courses, responses, resistance) and select the cohort;
3. derive endpoints, grade adverse events and build the analysis datasets (ADaM);
4. run the protocol's statistics (results dict);
5. write results.json, the analysis datasets, the run log, tables, figures and the report.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rechallenge import __version__
from rechallenge.analysis.seed import AnalysisInputs, analyse
from rechallenge.config import StudyConfig
from rechallenge.data.model import Study
from rechallenge.data.parse import ParseOptions
from rechallenge.data.validate import load_study
from rechallenge.derive.adam import build_adam
from rechallenge.derive.adverse_events import derive_adverse_events
from rechallenge.derive.endpoints import derive_endpoints
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.rules.cohort import select_cohort

LOG = logging.getLogger("rechallenge")
SCHEMA_VERSION = "1.0"


def load_validated(data: Path, config: StudyConfig) -> Study:
    """Stage 1: read and validate with the configured reading rules, then the data cut-off.

    The rules (courses, RECIST/iRECIST baselines and target sets) and the endpoint times are
    derived once here too, so every problem `run` could meet is raised by `validate` as well.
    """
    from rechallenge.derive.endpoints import endpoint_problems
    from rechallenge.errors import DataValidationError

    options = ParseOptions(config.data.partial_dates, config.data.excel_serial_dates)
    study = load_study(
        data, encoding=config.data.encoding, options=options, cutoff=config.endpoints.data_cutoff
    )
    facts = derive_patient_facts(study, config)  # raises for data no response can come from
    problems = endpoint_problems(facts.table, facts.responses, config.endpoints)
    if problems:
        raise DataValidationError(problems)
    return study


def pseudonymise(ids: list[str], show_ids: bool) -> dict[str, str]:
    """Stable pseudonyms P01, P02, ... in screening order (real IDs only when asked)."""
    width = max(2, len(str(len(ids))))
    return {pid: (pid if show_ids else f"P{i + 1:0{width}d}") for i, pid in enumerate(ids)}


@dataclass
class StageTimer:
    """Wall-clock seconds per stage, for the run log and the benchmarks."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@dataclass(frozen=True)
class StudyRun:
    """Everything a run produced in memory."""

    study: Study
    results: dict[str, Any]
    datasets: dict[str, pd.DataFrame]
    timings: dict[str, float]


def analyse_study(
    study: Study,
    config: StudyConfig,
    *,
    show_ids: bool = False,
    timer: StageTimer | None = None,
    advance: Callable[[str], None] = lambda _: None,
) -> StudyRun:
    """Stages 2-4 on a validated study."""
    timer = timer or StageTimer()
    with timer.stage("rules"):
        facts = derive_patient_facts(study, config)
        selection = select_cohort(facts.table, config.cohort)
    advance("rules")
    with timer.stage("derive"):
        included = facts.table[facts.table["patient_id"].isin(selection.included_ids)]
        endpoints = derive_endpoints(included, facts.responses, config.endpoints)
        adverse = derive_adverse_events(study, included, config) if _has_ae_data(study) else None
        pseudonyms = pseudonymise(facts.table["patient_id"].astype(str).tolist(), show_ids)
        datasets = build_adam(
            facts.table, selection, endpoints, adverse, pseudonyms, config, facts.responses
        )
    advance("derive")
    with timer.stage("statistics"):
        results = analyse(
            AnalysisInputs(facts.table, selection, endpoints, adverse, pseudonyms), config
        )
        results["warnings"] = [
            {"code": w.code, "message": w.render(show_ids)}
            for w in (*study.warnings, *facts.warnings)
        ]
    advance("statistics")
    return StudyRun(study, results, datasets, timer.seconds)


def _has_ae_data(study: Study) -> bool:
    return study.has("adverse_events") or study.has("labs")


def manifest(study: Study, config: StudyConfig) -> dict[str, Any]:
    """Input checksums, configuration and package versions (no timestamps: reproducible)."""
    import importlib.metadata as md
    import platform

    versions = {"rechallenge": __version__, "python": platform.python_version()}
    for package in ("numpy", "scipy", "pandas", "pandera", "pydantic", "matplotlib"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:  # pragma: no cover - all are dependencies
            versions[package] = "not installed"
    return {
        "inputs": [
            {"file": name, "sha256": digest} for name, digest in sorted(study.checksums.items())
        ],
        "config": json.loads(config.model_dump_json()),
        "versions": versions,
        "created_by": f"rechallenge {__version__}",
    }


def methods(config: StudyConfig) -> dict[str, Any]:
    """The choices that produced the numbers, as printed in the report."""
    return {
        "resistance_definition": config.resistance.definition,
        "response_criterion": config.response.criterion,
        "bor_confirmation": config.response.confirmation,
        "ctcae_version": config.adverse_events.ctcae_version,
        "km_ci_method": config.statistics.km_conf_type,
        "median_ci_method": config.statistics.median_ci,
        "cox_ties": config.statistics.cox_ties,
        "alpha": config.statistics.alpha,
        "proportion_ci": config.statistics.proportion_ci,
        "days_per_month": config.endpoints.days_per_month,
        "censoring_rule": config.endpoints.censoring,
    }


def build_results(run: StudyRun, config: StudyConfig, show_ids: bool) -> dict[str, Any]:
    """The complete results dict in its published key order."""
    return {
        "schema_version": SCHEMA_VERSION,
        "study": {
            "title": config.title,
            "data_cutoff": config.endpoints.data_cutoff,
            "show_ids": show_ids,
        },
        "methods": methods(config) | {"software": manifest(run.study, config)["versions"]},
        **run.results,
        "manifest": manifest(run.study, config),
    }


def results_json(results: dict[str, Any]) -> str:
    """Deterministic JSON (the same input gives byte-identical text), indented by two spaces.

    orjson writes the 100 MB of a 100,000-patient study in a quarter of a second; like `clean`,
    it writes a NaN or an infinity as null, so the text is always valid JSON.
    """
    return orjson.dumps(results, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def run_study(
    data: Path,
    out: Path,
    config: StudyConfig,
    *,
    show_ids: bool = False,
    pdf: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    """Stages 1-5 with a progress bar; returns the results dict."""
    console = console or Console(quiet=True)
    timer = StageTimer()
    stages = ["load", "rules", "derive", "statistics", "write"]
    with (
        cyclic_gc_paused(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("loading and validating", total=len(stages))

        def advance(done: str) -> None:
            following = stages[stages.index(done) + 1] if done != stages[-1] else done
            progress.update(task, advance=1, description=f"{following}…")

        with timer.stage("load"):
            study = load_validated(data, config)
        advance("load")
        run = analyse_study(study, config, show_ids=show_ids, timer=timer, advance=advance)
        results = build_results(run, config, show_ids)
        with timer.stage("write"):
            write_outputs(out, results, run, show_ids=show_ids, pdf=pdf)
        advance("write")
    write_run_log(out, study, run, timer.seconds, show_ids)
    console.print(summary_table(results))
    console.print(f"Results written to {out}")
    return results


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector during a run; reference counting still frees memory.

    The rules build millions of small objects that live until the run ends, and the collector
    would scan them again and again (a third of the rules stage on large cohorts). Cycles made
    during the run are left to the collector's next pass.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_outputs(
    out: Path, results: dict[str, Any], run: StudyRun, *, show_ids: bool, pdf: bool
) -> None:
    """results.json, ADaM-style datasets (CSV + Parquet), tables, figures and the report."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(results_json(results), encoding="utf-8")
    datasets = out / "datasets"
    datasets.mkdir(exist_ok=True)
    for name, frame in run.datasets.items():
        frame.to_csv(datasets / f"{name.lower()}.csv", index=False)
        frame.to_parquet(datasets / f"{name.lower()}.parquet", index=False)
    try:
        from rechallenge.report.outputs import write_outputs as write_publication
    except ImportError:  # pragma: no cover - publication outputs ship with the package
        return
    write_publication(results, out, pdf=pdf)


def write_run_log(
    out: Path, study: Study, run: StudyRun, seconds: dict[str, float], show_ids: bool
) -> None:
    """What was done: counts, imputations, warnings and stage times (no IDs or dates by default)."""
    lines = [f"rechallenge {__version__}", f"input: {len(study.checksums)} file(s)"]
    lines += [f"  {k}: {v}" for k, v in study.summary().items()]
    lines.append(f"imputed partial dates: {len(study.imputations)}")
    for imp in study.imputations:
        shown = f" {imp.original} -> {imp.imputed}" if show_ids else ""
        lines.append(f"  {imp.table} row {imp.row}, {imp.column}: rule {imp.rule}{shown}")
    lines.append(f"warnings: {len(run.results.get('warnings', []))}")
    lines += [f"  {w['code']}: {w['message']}" for w in run.results.get("warnings", [])]
    lines.append("stage seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))
    (out / "run.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


def summary_table(results: dict[str, Any]) -> Table:
    """The short summary printed at the end of a run."""
    table = Table(title="Study summary")
    table.add_column("item")
    table.add_column("value", justify="right")
    cohort = results["cohort"]
    table.add_row("screened / included", f"{cohort['screened']} / {cohort['included']}")
    for course in ("initial", "rechallenge"):
        eff = results["efficacy"].get(course) or {}
        if eff.get("orr"):
            table.add_row(
                f"ORR / DCR, {course}", f"{eff['orr']['percent']}% / {eff['dcr']['percent']}%"
            )
    for endpoint in ("PFS1", "PFSR", "OS"):
        km = results["km"].get(endpoint, {}).get("all")
        if km:
            median = "not reached" if km["median_months"] is None else f"{km['median_months']:.2f}"
            table.add_row(f"median {endpoint}, months", median)
    for row in results.get("cox", {}).get("PFSR", [])[:1]:
        if "hr" in row:
            table.add_row(
                f"HR {row['label']}", f"{row['hr']:.3f} ({row['lower']:.3f}–{row['upper']:.3f})"
            )
    return table


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a text (used by tests of reproducibility)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
