"""The example cohort's PFSR competing-risks rows (tests/reference/data/competing_study.csv)
as the tests of the competing-risks section, its table, figures and report text use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.analysis.competing_settings import CompetingRiskSettings
from rechallenge.config import StatisticsSettings, StudyConfig

REF = Path(__file__).resolve().parent
#: row, time (days), status (0/1/2), status_mixed (every third event a death), subgroups
DATA = pd.read_csv(REF / "data" / "competing_study.csv", dtype={"ecog_group": str})


def enabled(**settings: Any) -> StudyConfig:
    """The default study configuration with the competing-risks analysis switched on."""
    return StudyConfig(
        statistics=StatisticsSettings(competing_risks=CompetingRiskSettings(**settings))
    )


def survival_rows(status: np.ndarray, frame: pd.DataFrame = DATA) -> pd.DataFrame:
    """Endpoint rows (as derive.endpoints gives them, merged with the subgroups) for a status."""
    what = {0: None, 1: "progression", 2: "death"}
    return pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in frame["row"]],
            "paramcd": "PFSR",
            "aval_days": frame["time"].to_numpy(dtype=float),
            "cnsr": (status == 0).astype(int),
            "evntdesc": [what[int(s)] for s in status],
            "ecog_group": frame["ecog_group"].to_numpy(dtype=object),
            "pdl1": frame["pdl1"].to_numpy(dtype=object),
        }
    )
