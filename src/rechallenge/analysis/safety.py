"""Adverse events: patients with each term per treatment phase, by grade."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rechallenge.analysis.formatting import percent
from rechallenge.rules.adverse_events import summarise_adverse_events


def ae_section(worst: pd.DataFrame, n: int) -> dict[str, Any]:
    """Patients with each term per phase: any grade, grade 3-4 and grade 5, n (%)."""
    summary = summarise_adverse_events(worst, n)
    sources = worst.groupby(["phase", "term"])["source"].agg(lambda s: sorted(set(s)))
    section: dict[str, Any] = {"n": {"initial": n, "rechallenge": n}}
    for phase in ("initial", "rechallenge"):
        rows = [
            {
                "term": str(r.term),
                "any_grade": int(r.n_any),
                "any_grade_pct": percent(int(r.n_any), n),
                "grade_3_4": int(r.n_grade_3_4),
                "grade_3_4_pct": percent(int(r.n_grade_3_4), n),
                "grade_5": int(r.n_grade_5),
                "sources": sources.get((phase, r.term), []),
            }
            for r in summary[summary["phase"] == phase].itertuples(index=False)
        ]
        rows.sort(key=lambda r: (-r["any_grade"], -r["grade_3_4"], r["term"]))
        section[phase] = rows
    return section
