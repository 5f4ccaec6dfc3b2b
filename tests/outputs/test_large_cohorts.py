"""Large cohorts: per-patient figures are skipped with a reason, the listing is capped."""

from __future__ import annotations

from typing import Any

from rechallenge.figures.render import MAX_SWIMMER_LANES, build_figures, skipped_figures
from rechallenge.report.html import MAX_LISTED_PATIENTS, render_report


def test_per_patient_figures_are_skipped_beyond_their_limit(results: dict[str, Any]) -> None:
    lane = results["swimmer"][0]
    results["swimmer"] = [lane | {"patient": f"P{i}"} for i in range(MAX_SWIMMER_LANES + 1)]
    built = build_figures(results)
    assert "figure3_swimmer" not in built
    assert "figure2_waterfall" in built  # still within its own limit
    reason = skipped_figures(built, results)["figure3_swimmer"]
    assert f"{MAX_SWIMMER_LANES + 1} patients are too many" in reason


def test_the_patient_listing_is_capped(results: dict[str, Any]) -> None:
    patient = results["cohort"]["patients"][0]
    many = MAX_LISTED_PATIENTS + 7
    results["cohort"]["patients"] = [patient | {"patient_id": f"Q{i}"} for i in range(many)]
    results["swimmer"] = []
    results["study"]["show_ids"] = True  # identifiers are listed only when asked for
    html = render_report(results)
    assert "7 more screened patients are listed in results.json" in html
    assert f"Q{MAX_LISTED_PATIENTS - 1}<" in html
    assert f"Q{MAX_LISTED_PATIENTS}<" not in html
