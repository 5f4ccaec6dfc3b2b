"""The documented exit codes, from a real process (the installed `rechallenge` command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from datafactory import copy_tables, write_study

COMMAND = Path(sys.executable).parent / "rechallenge"


def rechallenge(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *map(str, args)], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("studies")
    broken = copy_tables()
    broken["treatments"][0]["ecog"] = "7"
    bad_config = root / "bad.yaml"
    bad_config.write_text("cohort:\n  disabled: [age]\n", encoding="utf-8")
    a_file = root / "a-file.txt"
    a_file.write_text("x", encoding="utf-8")
    return {
        "good": write_study(root / "good", copy_tables()),
        "broken": write_study(root / "broken", broken),
        "bad_config": bad_config,
        "file": a_file,
    }


def test_ok_is_0(studies: dict[str, Path]) -> None:
    assert rechallenge("validate", studies["good"]).returncode == 0


def test_invalid_data_is_1(studies: dict[str, Path], tmp_path: Path) -> None:
    proc = rechallenge("run", studies["broken"], "--out", tmp_path / "out")
    assert proc.returncode == 1
    assert "[RANGE-001]" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("case", ["missing data", "out is a file"])
def test_usage_errors_are_2(case: str, studies: dict[str, Path], tmp_path: Path) -> None:
    if case == "missing data":
        proc = rechallenge("run", tmp_path / "nowhere", "--out", tmp_path / "out")
        assert "no such file or folder" in proc.stderr
    else:
        proc = rechallenge("run", studies["good"], "--out", studies["file"])
        assert "is a file, not a folder" in proc.stderr
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_invalid_configuration_is_3(studies: dict[str, Path]) -> None:
    proc = rechallenge("validate", studies["good"], "--config", studies["bad_config"])
    assert proc.returncode == 3
    assert "did you mean 'age_range'?" in proc.stderr
