"""Validation and runs on the library's pipeline: the same stages `rechallenge run` runs.

`validate` calls `pipeline.load_validated` and returns the problems as records; `run_into`
writes a run folder with the same files as `rechallenge run --out` (plus the Word manuscript
and the configuration used), stage by stage so the
page can show progress. Nothing here decides anything clinical.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from rechallenge import pipeline, run_folder
from rechallenge.config import StudyConfig, config_from_mapping
from rechallenge.errors import ConfigError, DataValidationError, Problem, RechallengeError

Progress = Callable[[float, str], object]


def parse_config(text: str) -> StudyConfig:
    """The configuration from YAML text (the file the CLI reads); ConfigError when wrong."""
    try:
        raw = yaml.safe_load(text) if text.strip() else {}
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"the configuration is not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a mapping of sections")
    return config_from_mapping(raw)


def config_yaml(config: StudyConfig) -> str:
    """The configuration as the YAML `rechallenge run --config` reads (every value stated)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def problem_record(problem: Problem) -> dict[str, Any]:
    """A problem as stored: every field (values and IDs are hidden when shown, not here)."""
    value = problem.value
    return {
        "code": problem.code,
        "severity": problem.severity,
        "table": problem.table,
        "row": problem.row,
        "column": problem.column,
        "message": problem.message,
        "fix": problem.fix,
        "value": None if value is None else str(value),
        "identifying": problem.identifying,
        "patient_id": problem.patient_id,
    }


def public_problem(record: dict[str, Any], show_ids: bool) -> dict[str, Any]:
    """A stored problem as shown: identifying values and patient IDs only with `show_ids`."""
    shown = {k: v for k, v in record.items() if k not in ("patient_id", "identifying")}
    shown["value_hidden"] = bool(record.get("identifying") and not show_ids and record["value"])
    if shown["value_hidden"]:
        shown["value"] = None
    if show_ids:
        shown["patient_id"] = record.get("patient_id")
    return shown


def validate(data: Path, config: StudyConfig) -> list[dict[str, Any]]:
    """Every problem `rechallenge validate` reports for `data`, as records (empty: valid)."""
    try:
        pipeline.load_validated(data, config)
    except DataValidationError as exc:
        return [problem_record(p) for p in exc.problems]
    except (RechallengeError, OSError) as exc:
        return [
            problem_record(
                Problem("FILE", data.name, str(exc), "upload the study folder as .zip or .xlsx")
            )
        ]
    return []


def run_into(
    data: Path,
    config_text: str,
    out: Path,
    *,
    show_ids: bool,
    progress: Progress = lambda _f, _s: None,
) -> dict[str, Any]:
    """Run the study into `out` (written whole or not at all); report progress 0..1."""
    config = parse_config(config_text)

    def report(done: float, what: str) -> None:
        progress(min(done, 0.99), what)  # 1.0 only once the run is published

    staging = run_folder.open_staging(out)
    try:
        results, run, seconds = pipeline.run_stages(
            staging, data, config, show_ids=show_ids, report=report
        )
        (staging / "study.yaml").write_text(config_text, encoding="utf-8")
        pipeline.write_run_log(staging, run.study, run, seconds, show_ids)
        run_folder.publish(staging, out, "complete")
    except BaseException:
        run_folder.abandon(staging)
        raise
    return results
