"""The `make_study` fixture: the valid study with optional one-cell edits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from datafactory import copy_tables, write_study


@pytest.fixture
def make_study(tmp_path: Path) -> Callable[..., Path]:
    """Write the valid study with optional edits: make_study(("treatments", 0, "ecog", "7"))."""
    counter = iter(range(1000))

    def make(*edits: tuple[str, int, str, str]) -> Path:
        tables = copy_tables()
        for table, index, column, value in edits:
            tables[table][index][column] = value
        return write_study(tmp_path / f"study{next(counter)}", tables)

    return make
