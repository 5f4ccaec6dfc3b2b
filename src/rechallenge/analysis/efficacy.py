"""Best overall response, objective response and disease control rates with exact CIs."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rechallenge.analysis.formatting import percent
from rechallenge.config import StudyConfig
from rechallenge.stats.proportions import clopper_pearson, wilson

RESPONSES = ("CR", "PR", "SD", "PD", "NE")


def efficacy(bor: pd.Series, source: pd.Series | None, config: StudyConfig) -> dict[str, Any]:
    """Best overall response counts, ORR (CR+PR) and DCR (CR+PR+SD) with exact CIs."""
    values = bor.dropna().map(lambda r: "NE" if r in ("MISSING", "NON-CR/NON-PD") else r)
    non_cr_non_pd = int((bor == "NON-CR/NON-PD").sum())
    n = len(values)
    counts = {r: int((values == r).sum()) for r in RESPONSES}
    ci = clopper_pearson if config.statistics.proportion_ci == "clopper-pearson" else wilson
    conf = 1 - config.statistics.alpha
    section: dict[str, Any] = {
        "n": n,
        "bor": counts,
        "bor_percent": {r: percent(c, n) for r, c in counts.items()},
    }
    for name, hits in (
        ("orr", counts["CR"] + counts["PR"]),
        ("dcr", counts["CR"] + counts["PR"] + counts["SD"]),
    ):
        if n == 0:
            section[name] = None
            continue
        result = ci(hits, n, conf_level=conf)
        section[name] = {
            "count": hits,
            "estimate": result.estimate,
            "lower": result.lower,
            "upper": result.upper,
            "method": result.method,
            "percent": percent(hits, n),
        }
    if non_cr_non_pd:
        section["note"] = f"{non_cr_non_pd} non-CR/non-PD (no target lesions) counted as NE"
    if source is not None:
        section["source"] = {str(k): int(v) for k, v in source.value_counts().items()}
    return section
