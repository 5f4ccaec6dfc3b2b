"""End to end through the configuration: runs once `data:` carries the mapping keys.

Skipped until `DataSettings` has the keys of `rechallenge.data.mappings.DataMappings`
(`csv`, `files`, `date_format`, `date_formats`, `value_maps`, `rename`) and the pipeline
passes them to `read_study_files`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rechallenge.cli import app
from rechallenge.config import DataSettings
from rechallenge.data.mappings import DataMappings

pytestmark = pytest.mark.skipif(
    not set(DataMappings.model_fields) <= set(DataSettings.model_fields),
    reason="data: does not carry the declared mapping keys yet",
)


def test_validate_shows_each_applied_mapping(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]
) -> None:
    folder = tmp_path / "eu"
    folder.mkdir()
    for name, frame in cohort_frames.items():
        frame = frame.copy()
        if name == "patients":
            frame["sex"] = frame["sex"].map({"male": "M", "female": "F"})
        frame.to_csv(folder / f"{name}.csv", index=False, sep=";")
    config = tmp_path / "study.yaml"
    config.write_text(
        'data:\n  csv: {delimiter: ";"}\n  value_maps: {patients.sex: {M: male, F: female}}\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", str(folder)])
    assert refused.exit_code == 1 and "FILE-010" in refused.output
    result = runner.invoke(app, ["validate", str(folder), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "MAP-001" in result.output and "value_map" in result.output
