"""The study pipeline: data folder -> validated study -> cohort -> endpoints -> results -> outputs.

Stages (each timed and shown with a progress bar):

1. load and validate the study tables;
2. derive per-patient facts (courses, responses, resistance) and select the cohort;
3. derive endpoints, grade adverse events and build the analysis datasets (ADaM);
4. run the protocol's statistics (results dict);
5. write results.json, the analysis datasets, the run log, tables, figures and the report.

The outputs are written into a hidden folder beside the output folder and moved into place
only when complete (`rechallenge.run_folder`): a killed run never leaves a folder that
looks complete, and a run replaces an earlier one as a whole. A run that stops on data
problems leaves a folder holding only `problems.csv` (status `failed` in its marker).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import importlib.util
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rechallenge import __version__, run_folder
from rechallenge.analysis import competing as competing_analysis
from rechallenge.analysis.methods import methods_text, prognostic_methods
from rechallenge.analysis.protocol import AnalysisInputs, analyse
from rechallenge.config import StudyConfig, check_names_against
from rechallenge.data.model import Study
from rechallenge.data.parse import ParseOptions
from rechallenge.data.validate import load_study
from rechallenge.derive.adam import build_adam
from rechallenge.derive.adverse_events import derive_adverse_events
from rechallenge.derive.endpoints import derive_endpoints
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.errors import (
    PDF_INSTALL_HINT,
    DataValidationError,
    OutputFolderError,
    PdfBackendMissingError,
    Problem,
)
from rechallenge.labels import labels_from_config, labels_from_results
from rechallenge.rules.cohort import select_cohort
from rechallenge.tables.model import round_half_up

LOG = logging.getLogger("rechallenge")
SCHEMA_VERSION = "1.1"


def load_validated(data: Path | str | None, config: StudyConfig) -> Study:
    """Stage 1: read the source, validate with the configured reading rules, then the cut-off.

    `data` is a CSV folder, an .xlsx workbook, an OMOP CDM (.duckdb file, Parquet/CSV folder)
    or a database URL; `config.omop.database` is used when `data` is None. Every source goes
    through the same validation. The rules (courses, RECIST/iRECIST baselines and target
    sets) and the endpoint times are derived once here too, so every problem `run` could
    meet is raised by `validate` as well.
    """
    from rechallenge.data.cutoff import apply_cutoff
    from rechallenge.data.validate import validate_raw_study
    from rechallenge.derive.endpoints import endpoint_problems
    from rechallenge.errors import DataValidationError
    from rechallenge.sources import open_source

    options = ParseOptions(config.data.partial_dates, config.data.excel_serial_dates)
    source = open_source(data, schema=config.omop.schema_name, config=config)
    if source.kind in {"csv", "xlsx"}:
        assert data is not None
        study = load_study(
            Path(data),
            encoding=config.data.encoding,
            options=options,
            cutoff=config.endpoints.data_cutoff,
            mappings=config.data,
        )
    else:
        study = apply_cutoff(
            validate_raw_study(source.read(), options), config.endpoints.data_cutoff
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
    pseudonyms: dict[str, str] = field(default_factory=dict)  # patient id -> shown name


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
        inputs = AnalysisInputs(
            facts.table,
            selection,
            endpoints,
            adverse,
            pseudonyms,
            responses=facts.responses,
            imputations=study.imputations,
            warnings=(*study.warnings, *facts.warnings),
            labs=study.labs if study.has("labs") else None,
        )
        results = analyse(inputs, config)
        results["warnings"] = [
            {"code": w.code, "message": w.render(show_ids)}
            for w in (*study.warnings, *facts.warnings)
        ]
        results["imputations"] = imputation_summary(study, config)
    advance("statistics")
    return StudyRun(study, results, datasets, timer.seconds, pseudonyms)


def imputation_summary(study: Study, config: StudyConfig) -> dict[str, Any]:
    """How many partial dates were completed, by which rule, per table and column (no dates)."""
    counts = Counter((imp.table, imp.column) for imp in study.imputations)
    return {
        "rule": config.data.partial_dates,
        "count": len(study.imputations),
        "by_column": [
            {"table": table, "column": column, "count": n}
            for (table, column), n in sorted(counts.items())
        ],
    }


def check_study_names(study: Study, config: StudyConfig) -> None:
    """Configuration names only the data can confirm (Cox covariates, columns, label codes)."""
    patients = study.patients
    levels = {
        str(column): {str(v) for v in values.dropna().unique()}
        for column, values in patients.items()
        if values.dtype == object and values.nunique() <= 50
    }
    check_names_against(config, [str(c) for c in patients.columns], levels)


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
        "config": _redacted_config(config),
        "versions": versions,
        "created_by": f"rechallenge {__version__}",
    }


def _redacted_config(config: StudyConfig) -> dict[str, Any]:
    """The configuration as JSON, with any password taken out of the OMOP database URL.

    An unset optional block (``statistics.competing_risks``, ``prognostic``, ``spark``) is
    left out, so a run without it records the same configuration as before it existed.
    """
    dumped: dict[str, Any] = json.loads(config.model_dump_json())
    statistics = dumped.get("statistics") or {}
    if statistics.get("competing_risks", False) is None:
        del statistics["competing_risks"]
    if dumped.get("prognostic", False) is None:
        del dumped["prognostic"]
    if dumped.get("spark", False) is None:
        del dumped["spark"]
    omop = dumped.get("omop") or {}
    if omop.get("database"):
        omop["database"] = redact_url(str(omop["database"]))
    if omop.get("convention") is False:  # off by default: a study without it keeps its manifest
        del omop["convention"]
    return dumped


def methods(config: StudyConfig) -> dict[str, Any]:
    """The choices that produced the numbers, as printed in the report (and in words)."""
    settings: dict[str, Any] = {
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
        "partial_dates": config.data.partial_dates,
    }
    competing = config.statistics.competing_risks
    if competing is not None and competing.enabled:
        settings["competing_risks_method"] = competing_analysis.METHOD
        settings["cif_ci_method"] = competing_analysis.CI_METHOD
        settings["competing_test"] = competing_analysis.TEST
    labels = labels_from_config(config.model_dump(mode="json"))
    out: dict[str, Any] = settings | {"methods_text": methods_text(settings, labels)}
    if config.prognostic is not None and config.prognostic.enabled:
        out["prognostic"] = prognostic_methods(config.prognostic, labels)
    return out


PROXY_SOURCES = ("proxy:next_line_start", "proxy:death")


def progression_method(study: Study) -> str | None:
    """The progression proxy the study's treatment lines used, as a method code, or None.

    An OMOP source without Disease Progression episodes marks proxied progression dates in
    `treatments.progression_source`; endpoints built on them are time to next treatment (or
    death), so results, tables and the report must name the proxy. A study whose dates are
    all observed (every CSV study, an OMOP instance with episodes) gets None: no key.
    """
    treatments = study.treatments
    if "progression_source" not in treatments.columns:
        return None
    used = set(treatments["progression_source"].dropna().astype(str)) & set(PROXY_SOURCES)
    if not used:
        return None
    return "proxy_next_line_or_death" if "proxy:death" in used else "proxy_next_line_start"


def _methods_of_run(run: StudyRun, config: StudyConfig) -> dict[str, Any]:
    """`methods(config)` plus what only the data shows: the progression proxy in use."""
    out = methods(config)
    proxy = progression_method(run.study)
    if proxy is not None:
        labels = labels_from_config(config.model_dump(mode="json"))
        out["progression_method"] = proxy
        out["methods_text"] = out["methods_text"] | {
            "progression_method": labels.method("progression_method", proxy)
        }
    return out


def build_results(run: StudyRun, config: StudyConfig, show_ids: bool) -> dict[str, Any]:
    """The complete results dict in its published key order."""
    return {
        "schema_version": SCHEMA_VERSION,
        "study": {
            "title": config.title,
            "data_cutoff": config.endpoints.data_cutoff,
            "cutoff": run.study.cutoff.as_dict() if run.study.cutoff else None,
            "show_ids": show_ids,
        },
        "methods": _methods_of_run(run, config)
        | {
            "data_mappings": [
                {
                    "rule": m.rule,
                    "source": m.source,
                    "column": m.column,
                    "detail": m.detail,
                    "count": m.count,
                }
                for m in run.study.mappings_applied
            ],
            "software": manifest(run.study, config)["versions"],
        },
        **run.results,
        "manifest": manifest(run.study, config),
    }


def results_json(results: dict[str, Any]) -> str:
    """Deterministic JSON (the same input gives byte-identical text), indented by two spaces.

    orjson writes the 100 MB of a 100,000-patient study in a quarter of a second; like `clean`,
    it writes a NaN or an infinity as null, so the text is always valid JSON.
    """
    return orjson.dumps(results, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


#: Share of the progress bar per stage, from the example cohort's stage times (the write
#: stage, figures above all, takes about 85 % of a run); the write stage advances per file.
STAGE_WEIGHTS: dict[str, float] = {
    "load": 2.0,
    "rules": 3.0,
    "derive": 2.0,
    "statistics": 8.0,
    "write": 85.0,
}
STAGE_NAMES = {
    "load": "loading and validating",
    "rules": "applying the rules and selecting the cohort",
    "derive": "deriving endpoints and datasets",
    "statistics": "computing the statistics",
    "write": "writing",
}


def require_pdf() -> None:
    """Raise PdfBackendMissingError (naming both install commands) without WeasyPrint."""
    if importlib.util.find_spec("weasyprint") is None:
        raise PdfBackendMissingError(
            f"--pdf needs WeasyPrint, which is not installed; {PDF_INSTALL_HINT}"
        )


def check_pseudonym_key(path: Path, out: Path, *, force: bool) -> None:
    """The key goes outside the shareable output folder, never over a file not ours."""
    key, folder = path.resolve(), out.resolve()
    if key == folder or folder in key.parents:
        raise OutputFolderError(
            f"--pseudonym-key {path} lies inside the output folder, which is meant to be "
            "shared; write the key elsewhere (e.g. beside the source data)"
        )
    if key.is_dir():
        raise OutputFolderError(f"--pseudonym-key {path} is a folder; give a file name")
    if key.exists() and not force and not _is_pseudonym_key(key):
        raise OutputFolderError(
            f"--pseudonym-key {path} exists and is not a key written by rechallenge; "
            "choose another name or pass --force"
        )
    if not key.parent.is_dir() or not os.access(key.parent, os.W_OK | os.X_OK):
        raise OutputFolderError(f"cannot write the pseudonym key in {key.parent}")


PSEUDONYM_HEADER = ["pseudonym", "patient_id"]


def _is_pseudonym_key(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle), []) == PSEUDONYM_HEADER
    except (OSError, UnicodeDecodeError):
        return False


def write_pseudonym_key(path: Path, run: StudyRun) -> None:
    """pseudonym -> patient id for every screened patient (identifying: keep it private)."""
    ids = run.study.patients["patient_id"].astype(str).tolist()
    key = pseudonymise(ids, show_ids=False)
    tmp = path.with_name(f".{path.name}.partial")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PSEUDONYM_HEADER)
        writer.writerows([key[pid], pid] for pid in ids)
    os.replace(tmp, path)


def write_problem_csv(problems: Sequence[Problem], path: Path, show_ids: bool) -> None:
    """The full problem list, privacy rules applied."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "file", "row", "column", "message", "value", "fix"])
        for p in problems:
            shown = p.value if (show_ids or not p.identifying) else ""
            writer.writerow([p.code, p.table, p.row or "", p.column or "", p.message, shown, p.fix])


class ProblemsWritten(DataValidationError):
    """The data had problems; `path` is the problems.csv of the failed run's folder."""

    def __init__(self, problems: Sequence[Problem], path: Path) -> None:
        super().__init__(problems)
        self.path = path


def redact_url(url: str) -> str:
    """`url` without its password (user, host, port, database and query kept).

    The run folder records where the data came from; a credential must never be written.
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def source_description(data: Path | None, config: StudyConfig) -> dict[str, Any]:
    """Where a run's data came from, for the run folder marker (never a password)."""
    if data is not None:
        return {"kind": "path", "location": str(data)}
    url = config.omop.database or ""
    return {
        "kind": "database",
        "location": redact_url(url),
        "schema": config.omop.schema_name,
    }


def input_size(data: Path) -> int:
    """Bytes of the study's input files (for the free-space check)."""
    if data.is_file():
        return data.stat().st_size
    return sum(p.stat().st_size for p in data.glob("*") if p.is_file())


def run_study(
    data: Path | str | None,
    out: Path | str,
    config: StudyConfig,
    *,
    show_ids: bool = False,
    pdf: bool = False,
    console: Console | None = None,
    force: bool = False,
    pseudonym_key: Path | None = None,
) -> dict[str, Any]:
    """Stages 1-5 with a progress bar and a closing summary; returns the results dict.

    See `run_and_write` for the checks made first and the exceptions raised.
    """
    console = console or Console(quiet=True)
    results, _, final = run_and_write(
        Path(data) if data is not None else None,
        Path(out),
        config,
        show_ids=show_ids,
        pdf=pdf,
        console=console,
        force=force,
        pseudonym_key=pseudonym_key,
    )
    console.print(summary_table(results))
    report_notes(console, results, final, pseudonym_key)
    return results


def run_and_write(
    data: Path | None,
    out: Path,
    config: StudyConfig,
    *,
    show_ids: bool = False,
    pdf: bool = False,
    console: Console | None = None,
    force: bool = False,
    pseudonym_key: Path | None = None,
) -> tuple[dict[str, Any], StudyRun, Path]:
    """Stages 1-5 into `out`; returns the results, the in-memory run and the folder written.

    Every check that can fail without computing (data path, output folder, PDF backend,
    pseudonym key) runs first. Data problems end the run with ProblemsWritten after the
    folder was replaced by one holding only problems.csv; a configuration name that the
    data does not have raises ConfigError and leaves the folder untouched.
    """
    console = console or Console(quiet=True)
    if data is None and config.omop.database is None:
        raise FileNotFoundError("no study data: give a data path or an OMOP database URL")
    if data is not None and not data.exists():
        raise FileNotFoundError(f"{data}: no such file or folder")
    if pseudonym_key is not None:
        check_pseudonym_key(pseudonym_key, out, force=force)
    protected = [data] if data is not None else []
    size = input_size(data) if data is not None else 0
    run_folder.check_target(out, force=force, protected=protected, input_bytes=size)
    if pdf:
        require_pdf()
    where = source_description(data, config)
    staging = run_folder.open_staging(out)
    try:
        results, run, seconds = _run_into(staging, data, config, show_ids, pdf, console)
        write_run_log(staging, run.study, run, seconds, show_ids)
        final = run_folder.publish(staging, out, "complete", source=where)
    except DataValidationError as exc:
        write_problem_csv(exc.problems, staging / "problems.csv", show_ids)
        final = run_folder.publish(staging, out, "failed", source=where)
        raise ProblemsWritten(exc.problems, final / "problems.csv") from None
    except OSError as exc:
        run_folder.abandon(staging)
        raise run_folder.write_failure(exc, out) from exc
    except BaseException:
        run_folder.abandon(staging)
        raise
    if pseudonym_key is not None:
        write_pseudonym_key(pseudonym_key, run)
    return results, run, final


def report_notes(
    console: Console, results: dict[str, Any], out: Path, pseudonym_key: Path | None
) -> None:
    """Warnings and imputations as a one-line count, then where the report is."""
    warnings = len(results.get("warnings") or [])
    imputed = int((results.get("imputations") or {}).get("count", 0))
    if warnings or imputed:
        console.print(
            f"[yellow]{warnings} data-quality warning(s), {imputed} imputed date(s)[/]: "
            f"listed in {out / 'run.log'} and in the report's warnings"
        )
    if pseudonym_key is not None:
        console.print(
            f"[bold yellow]Pseudonym key written to {pseudonym_key}[/]: it identifies patients; "
            "keep it with the source data and never share it with the outputs."
        )
    console.print(f"Report: {out / 'report.html'}", soft_wrap=True, markup=False)
    console.print(f"All outputs: {out}", soft_wrap=True, markup=False)


#: Progress of a run: fraction done (0..1) and what is being done, in words.
ProgressReport = Callable[[float, str], None]


def run_stages(
    staging: Path,
    data: Path | None,
    config: StudyConfig,
    *,
    show_ids: bool = False,
    pdf: bool = False,
    report: ProgressReport = lambda _done, _what: None,
) -> tuple[dict[str, Any], StudyRun, dict[str, float]]:
    """Stages 1-5 into `staging`, reporting progress weighted by the stages' usual times.

    The one run loop: the command line draws `report` as a progress bar, the workbench
    stores it with the run. Returns the results, the in-memory run and the stage seconds.
    """
    timer = StageTimer()
    total = sum(STAGE_WEIGHTS.values())
    order = list(STAGE_WEIGHTS)
    done = 0.0

    def advance(stage: str) -> None:
        nonlocal done
        done += STAGE_WEIGHTS[stage]
        following = order[min(order.index(stage) + 1, len(order) - 1)]
        report(done / total, STAGE_NAMES[following])

    with cyclic_gc_paused():
        report(0.0, STAGE_NAMES["load"])
        with timer.stage("load"):
            study = load_validated(data, config)
            check_study_names(study, config)
        advance("load")
        run = analyse_study(study, config, show_ids=show_ids, timer=timer, advance=advance)
        results = build_results(run, config, show_ids)
        steps = write_steps(staging, results, run, show_ids=show_ids, pdf=pdf)
        share = STAGE_WEIGHTS["write"] / max(len(steps), 1)
        with timer.stage("write"):
            for name, step in steps:
                report(done / total, f"writing {name}")
                step()
                done += share
    return results, run, timer.seconds


def _run_into(
    staging: Path,
    data: Path | None,
    config: StudyConfig,
    show_ids: bool,
    pdf: bool,
    console: Console,
) -> tuple[dict[str, Any], StudyRun, dict[str, float]]:
    """`run_stages` with a rich progress bar on `console`."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(STAGE_NAMES["load"] + "…", total=1.0)

        def report(done: float, what: str) -> None:
            progress.update(task, completed=done, description=what + "…")

        return run_stages(staging, data, config, show_ids=show_ids, pdf=pdf, report=report)


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
    for _, step in write_steps(Path(out), results, run, show_ids=show_ids, pdf=pdf):
        step()


Step = tuple[str, Callable[[], object]]


def write_steps(
    out: Path, results: dict[str, Any], run: StudyRun, *, show_ids: bool, pdf: bool
) -> list[Step]:
    """The write stage as named steps (results, datasets, then one per figure and table, the
    report and the manuscript), so progress can be shown; the publication outputs are the
    steps of `rechallenge.report.outputs.output_steps`, the one place that writes them."""
    from rechallenge.report.outputs import output_steps
    from rechallenge.tables.render import neutralise_formulas

    publication, _ = output_steps(results, out, pdf=pdf)
    out.mkdir(parents=True, exist_ok=True)

    def write_json() -> None:
        (out / "results.json").write_text(results_json(results), encoding="utf-8")

    def write_datasets() -> None:
        datasets = out / "datasets"
        datasets.mkdir(exist_ok=True)
        for name, frame in run.datasets.items():
            # Text cells that a spreadsheet would run as formulas are escaped (OWASP).
            neutralise_formulas(frame).to_csv(datasets / f"{name.lower()}.csv", index=False)
            frame.to_parquet(datasets / f"{name.lower()}.parquet", index=False)

    return [("results.json", write_json), ("datasets", write_datasets), *publication]


def write_run_log(
    out: Path, study: Study, run: StudyRun, seconds: dict[str, float], show_ids: bool
) -> None:
    """What was done: counts, imputations, warnings and stage times (no IDs or dates by default)."""
    lines = [f"rechallenge {__version__}", f"input: {len(study.checksums)} file(s)"]
    lines += [f"  {k}: {v}" for k, v in study.summary().items()]
    lines.append(f"imputed or truncated dates: {len(study.imputations)}")
    for imp in study.imputations:
        shown = f" {imp.original} -> {imp.imputed}" if show_ids else ""
        lines.append(f"  {imp.table} row {imp.row}, {imp.column}: rule {imp.rule}{shown}")
    lines.append(f"warnings: {len(run.results.get('warnings', []))}")
    lines += [f"  {w['code']}: {w['message']}" for w in run.results.get("warnings", [])]
    lines.append("stage seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))
    (out / "run.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


def summary_table(results: dict[str, Any]) -> Table:
    """The short summary printed at the end of a run, rounded as the report rounds."""
    table = Table(title="Study summary")
    table.add_column("item")
    table.add_column("value", justify="right")
    for item, value in summary_rows(results):
        table.add_row(item, value)
    return table


def summary_rows(results: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(item, value) pairs: cohort size, ORR/DCR, medians with CIs, the first PFSR HR."""
    cohort = results["cohort"]
    rows = [("screened / included", f"{cohort['screened']} / {cohort['included']}")]
    for course in ("initial", "rechallenge"):
        eff = results["efficacy"].get(course) or {}
        if eff.get("orr"):
            rows.append((f"ORR / DCR, {course}", f"{_pct(eff['orr'])} / {_pct(eff['dcr'])}"))
    for endpoint in ("PFS1", "PFSR", "OS"):
        km = results["km"].get(endpoint, {}).get("all")
        if km:
            rows.append((f"median {endpoint}, months (95% CI)", _median(km)))
    estimated = [r for r in results.get("cox", {}).get("PFSR", []) if r.get("hr") is not None]
    labels = labels_from_results(results)
    for row in estimated[:1]:
        hr = f"{_two(row['hr'])} ({_two(row.get('lower'))}–{_two(row.get('upper'))})"
        term = row["label"]
        if row.get("reference") and row.get("variable"):
            term += f" vs {labels.level(row['variable'], row['reference'])}"
        rows.append((f"HR, {term}", hr))
    return rows


def _two(value: Any) -> str:
    return "–" if value is None else round_half_up(float(value), 2)


def _pct(estimate: dict[str, Any]) -> str:
    """``84.6%`` rounded half up to one decimal, as the tables print it."""
    if estimate.get("estimate") is None:
        return "–"
    return round_half_up(float(estimate["estimate"]) * 100, 1) + "%"


def _median(km: dict[str, Any]) -> str:
    """``3.45 (2.10–NR)``: two decimals, NR when a limit is not reached."""

    def lim(value: Any) -> str:
        return "NR" if value is None else round_half_up(float(value), 2)

    if km.get("median_months") is None:
        return "not reached"
    return f"{lim(km['median_months'])} ({lim(km.get('lower'))}–{lim(km.get('upper'))})"


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a text (used by tests of reproducibility)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
