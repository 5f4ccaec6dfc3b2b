"""Shared fixtures for the figure, table and report tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

FIXTURE = Path(__file__).parent / "fixtures" / "results_example.json"


@pytest.fixture(scope="session")
def _results_on_disk() -> dict[str, Any]:
    with FIXTURE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@pytest.fixture
def results(_results_on_disk: dict[str, Any]) -> dict[str, Any]:
    """A fresh deep copy of the example results (tests may modify it)."""
    return copy.deepcopy(_results_on_disk)
