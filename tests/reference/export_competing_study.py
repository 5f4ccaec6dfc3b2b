"""Export the example cohort's PFSR competing-risks data for tests/reference/competing_study.R.

Run from the repository root:  PYTHONPATH=src python tests/reference/export_competing_study.py
Writes tests/reference/data/competing_study.csv: one row per analysed patient (row number,
no ID or date) with the PFSR time in days, the competing status (0 censored, 1
progression, 2 death without progression), the subgroups, and ``status_mixed``: the same
data with every third event (in row order) recoded as a death without progression, so the
second cause and its Gray's test are exercised too (the example cohort has no such death).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rechallenge.analysis.cohort import add_subgroups
from rechallenge.analysis.competing import competing_status
from rechallenge.config import StudyConfig
from rechallenge.derive.endpoints import derive_endpoints
from rechallenge.derive.patients import derive_patient_facts
from rechallenge.pipeline import load_validated
from rechallenge.rules.cohort import select_cohort

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "reference" / "data" / "competing_study.csv"


def competing_frame() -> pd.DataFrame:
    """The exported rows, in patient order as the pipeline derives them."""
    config = StudyConfig()
    study = load_validated(ROOT / "examples" / "seed_cohort", config)
    facts = derive_patient_facts(study, config)
    selection = select_cohort(facts.table, config.cohort)
    included = facts.table[facts.table["patient_id"].isin(selection.included_ids)]
    endpoints = derive_endpoints(included, facts.responses, config.endpoints)
    subgroups = [s.name for s in config.statistics.subgroups]
    included = add_subgroups(included, config.statistics.subgroups)
    pfsr = endpoints[endpoints["paramcd"] == "PFSR"].merge(
        included[["patient_id", *subgroups]], on="patient_id", how="inner"
    )
    status = competing_status(pfsr)
    mixed = status.copy()
    events = [i for i, s in enumerate(status) if s != 0]
    mixed[events[2::3]] = 2
    out = pd.DataFrame(
        {
            "row": range(1, len(pfsr) + 1),
            "time": pfsr["aval_days"].to_numpy(dtype=int),
            "status": status,
            "status_mixed": mixed,
        }
    )
    for name in subgroups:
        out[name] = pfsr[name].to_numpy()
    return out


if __name__ == "__main__":
    competing_frame().to_csv(OUT, index=False)
    print(f"wrote {OUT.relative_to(ROOT)}")
