"""Settings of the optional competing-risks analysis (``statistics.competing_risks``), kept
apart from the analysis so that reading a configuration loads no statistics."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CompetingRiskSettings(BaseModel):
    """Progression with death without progression as a competing event (R ``cmprsk``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        True,
        description="Run the analysis (false keeps the block in the file but switches it off).",
    )
    endpoint: Literal["PFSR", "PFS1"] = Field(
        "PFSR",
        description="Endpoint whose events are split into progression (cause 1) and death "
        "without progression (cause 2); censored patients stay censored.",
    )
    times_months: list[float] = Field(
        default_factory=lambda: [6.0, 12.0],
        description="Months at which the cumulative incidence of each cause is reported, "
        "with its 95% CI (log(-log) transformation of cmprsk's variance).",
    )
    by_subgroups: bool = Field(
        True,
        description="Also estimate the curves by each level of statistics.subgroups and "
        "compare them with Gray's test.",
    )

    @field_validator("times_months")
    @classmethod
    def _positive_sorted(cls, value: list[float]) -> list[float]:
        """Times are positive; duplicates are dropped and the list is sorted."""
        if any(not t > 0 for t in value):
            raise ValueError("times_months must be positive numbers of months")
        return sorted(set(value))
