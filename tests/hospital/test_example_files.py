"""The committed worked examples of docs/data-sources.md are what the builders write today,
and each reads as the example cohort."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rechallenge.config import load_config
from rechallenge.data.validate import load_study

from .conftest import assert_same_study
from .examples import EXAMPLES, write_examples


def test_committed_examples_are_current(tmp_path: Path) -> None:
    for path in write_examples(tmp_path):
        committed = EXAMPLES / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `.venv/bin/python -m tests.hospital.examples`"
        )


def test_each_example_reads_as_the_cohort(reference_study: Any) -> None:
    assert_same_study(
        load_study(EXAMPLES / "redcap-export.csv"), reference_study, sets=("patients.metastases",)
    )
    assert_same_study(load_study(EXAMPLES / "sdtm"), reference_study)
    data = load_config(EXAMPLES / "hospital-export.yaml").data
    assert_same_study(load_study(EXAMPLES / "hospital-export", mappings=data), reference_study)
