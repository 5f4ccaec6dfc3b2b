"""Every ```python block of README.md and docs/*.md runs, in order, one namespace per file.

Blocks run from a scratch folder that links `examples/` and `tests/` of the checkout, so
paths read as in the docs (from the project folder) and nothing is written into the
checkout. Blocks that are API listings rather than examples are listed in NOT_EXAMPLES
with the reason; they are expected to fail (strict), so making one runnable shows up here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

import rechallenge

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

#: (file, block number from 1) -> why it is not a runnable example (documentation owners:
#: turn each into an example or a ```text listing). Empty: every Python block runs.
NOT_EXAMPLES: dict[tuple[str, int], str] = {}


def blocks() -> list[tuple[Path, list[str]]]:
    return [(path, BLOCK.findall(path.read_text(encoding="utf-8"))) for path in DOCS]


def cases() -> list[object]:
    out: list[object] = []
    for path, found in blocks():
        if not found:
            continue
        expected_bad = [n for (name, n) in NOT_EXAMPLES if name == path.name]
        marks = [pytest.mark.xfail(strict=True, reason="listing")] if expected_bad else []
        out.append(pytest.param(path, found, id=path.name, marks=marks))
    return out


@pytest.fixture
def project_like(tmp_path: Path) -> Path:
    for name in ("examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


@pytest.mark.parametrize(("path", "code"), cases())
def test_python_blocks_run(
    path: Path, code: list[str], project_like: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project_like)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for number, source in enumerate(code, start=1):
        try:
            exec(compile(source, f"{path.name} block {number}", "exec"), namespace)
        except Exception as exc:
            reason = NOT_EXAMPLES.get((path.name, number))
            raise AssertionError(f"{path.name} block {number} failed ({reason}): {exc}") from exc


def test_every_listed_exception_still_exists() -> None:
    names = {path.name: len(found) for path, found in blocks()}
    for name, number in NOT_EXAMPLES:
        assert number <= names.get(name, 0), f"{name} has no python block {number} any more"


def test_python_api_doc_has_examples() -> None:
    text = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    assert len(BLOCK.findall(text)) >= 6


def test_citation_file_is_valid_and_matches_the_version() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert str(citation["version"]) == rechallenge.__version__
    assert citation["references"][0]["doi"] == "10.3389/fonc.2025.1621860"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## How to cite" in readme and "CITATION.cff" in readme


def test_readme_commands_use_the_example_cohort_and_say_how_to_activate() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ". .venv/bin/activate" in readme and ".venv/bin/rechallenge" in readme
    assert "rechallenge validate examples/seed_cohort" in readme
    assert os.path.exists(ROOT / "tests" / "reference" / "data" / "aml.csv")
