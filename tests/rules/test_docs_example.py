"""The docs/rules-recist.md example runs on lesion rows in the documented CSV format."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from rechallenge.rules.response_common import CourseResponse, Response

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules-recist.md"


def example_code() -> str:
    """The first Python block of the RECIST rules page."""
    match = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.mark.skipif(not (ROOT / "examples" / "seed_cohort").exists(), reason="no cohort")
def test_the_documented_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(example_code(), str(DOC), "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, CourseResponse)
    assert result.bor == Response.PR  # 62 mm at baseline, 42 mm at week 9: -32 %
    assert result.progression_date == pd.Timestamp("2021-09-10")
    assert result.timepoints[0].source_rows[0] >= 2  # rows numbered as a spreadsheet shows
    final, disagreement = namespace["final"], namespace["disagreement"]
    assert final is result and disagreement is None
