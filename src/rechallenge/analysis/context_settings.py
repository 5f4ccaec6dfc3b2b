"""Settings of the Context section (the `literature` section of the study configuration),
kept apart from the analysis so that reading a configuration loads no statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LiteratureSettings(BaseModel):
    """A literature file to pool, and how (defaults as R metafor ``rma``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path = Field(
        description="CSV of published studies in the format of "
        "examples/literature/rechallenge_nsclc.csv (relative paths: from the working "
        "directory)."
    )
    measure: Literal["PLO", "PR", "PFT"] = Field(
        "PLO", description="Scale for pooling proportions: PLO (logit), PR (raw), PFT."
    )
    method: Literal["REML", "DL", "PM", "ML", "FE"] = Field(
        "REML", description="Between-study variance estimator (FE: common effect)."
    )
    hartung_knapp: bool = Field(
        False, description="Hartung–Knapp intervals (t on k - 1 df) instead of Wald (z)."
    )
    conf_level: float = Field(0.95, gt=0, lt=1, description="Level of the pooled intervals.")
