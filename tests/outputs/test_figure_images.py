"""Image regression: each figure drawn from the example results matches its baseline PNG.

Baselines live in ``tests/outputs/baseline/`` at 60 dpi. After an intended visual change,
regenerate them, look at every image, and commit them::

    RECHALLENGE_UPDATE_BASELINES=1 .venv/bin/pytest tests/outputs/test_figure_images.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from matplotlib.testing.compare import compare_images

from rechallenge.figures.render import FIGURES, build_figures
from rechallenge.figures.style import save_figure

BASELINE_DIR = Path(__file__).parent / "baseline"
DPI = 60
TOLERANCE = 2.0  # RMS difference in 0-255 grey levels
UPDATE = os.environ.get("RECHALLENGE_UPDATE_BASELINES") == "1"


# Optional figures (drawn only when the configuration asks) have their own tests, e.g. the
# Context forest plot in tests/meta/test_meta_forest.py.
@pytest.mark.parametrize("stem", [spec.stem for spec in FIGURES if not spec.optional])
def test_figure_matches_baseline(stem: str, results: dict[str, Any], tmp_path: Path) -> None:
    fig = build_figures(results)[stem]
    (actual,) = save_figure(fig, tmp_path / stem, ("png",), dpi=DPI)
    baseline = BASELINE_DIR / f"{stem}.png"
    if UPDATE:
        BASELINE_DIR.mkdir(exist_ok=True)
        shutil.copyfile(actual, baseline)
        pytest.skip(f"baseline {baseline.name} regenerated")
    assert baseline.exists(), (
        f"no baseline for {stem}; run with RECHALLENGE_UPDATE_BASELINES=1 to create it"
    )
    failure = compare_images(str(baseline), str(actual), tol=TOLERANCE)
    assert failure is None, failure
