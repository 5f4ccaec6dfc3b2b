"""Settings of the Prognostic model section (the `prognostic` section of the study
configuration), kept apart from the analysis so that reading a configuration loads no
statistics.

The covariates are checked here against the names the section knows (`KNOWN_COVARIATES`),
with a "did you mean" suggestion; a spline term must be one of the covariates and
continuous (`CONTINUOUS`).
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rechallenge.derive.markers import MarkerSettings
from rechallenge.errors import unknown_name

__all__ = [
    "CONTINUOUS",
    "KNOWN_COVARIATES",
    "PenaltySettings",
    "PrognosticSettings",
    "ValidationSettings",
]

#: Covariates the section can model: the derived markers (``nlr``, ``bmi``,
#: ``pdl1_retest`` and the binary ``nlr_low``, ``bmi_low``), ECOG PS at rechallenge
#: (``ecog``, a number), age at rechallenge, sex, smoking history (ever/never),
#: histology and the diagnostic PD-L1 TPS.
KNOWN_COVARIATES: Final = (
    "nlr",
    "nlr_low",
    "bmi",
    "bmi_low",
    "pdl1_retest",
    "ecog",
    "age",
    "sex",
    "smoking_status",
    "histology",
    "pdl1_tps",
)
#: Covariates that may be modelled as restricted cubic splines.
CONTINUOUS: Final = ("nlr", "bmi", "pdl1_retest", "age", "pdl1_tps")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PenaltySettings(_Section):
    """Penalised Cox (glmnet) beside the ordinary fit; cross-validated λ, a short path."""

    method: Literal["none", "lasso", "ridge", "elastic_net"] = Field(
        "none",
        description="none (ordinary Cox only), lasso (alpha 1), ridge (alpha 0) or "
        "elastic_net (the alpha below); penalised fits are cross-validated, which is slow.",
    )
    alpha: float = Field(
        0.5, gt=0, lt=1, description="Elastic-net mixing (glmnet alpha), for elastic_net only."
    )
    nfolds: int = Field(10, ge=3, le=20, description="Cross-validation folds.")
    nlambda: int = Field(
        20, ge=5, le=100, description="Length of the λ path (glmnet's default is 100)."
    )
    seed: int = Field(1, description="Seed of the fold assignment.")

    def mixing(self) -> float:
        """glmnet's ``alpha`` for the method."""
        return {"lasso": 1.0, "ridge": 0.0}.get(self.method, self.alpha)


class ValidationSettings(_Section):
    """How the model is validated: discrimination and calibration at fixed times."""

    times_months: list[float] = Field(
        default_factory=lambda: [6.0],
        min_length=1,
        description="Months at which time-dependent AUC and calibration are reported; the "
        "first is used for the calibration figure and the nomogram.",
    )
    bootstrap: int = Field(
        200, ge=0, le=2000, description="Bootstrap resamples for optimism correction (0: none)."
    )
    seed: int = Field(1, description="Seed of the bootstrap resamples.")
    groups: int = Field(
        4, ge=2, le=10, description="Risk groups of the calibration table and figure."
    )

    @field_validator("times_months")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(t <= 0 for t in value):
            raise ValueError("times must be positive months")
        return value


class PrognosticSettings(_Section):
    """A multivariable prognostic Cox model of the rechallenge cohort (report section
    'Prognostic model')."""

    enabled: bool = Field(True, description="Fit the model (false: section off).")
    endpoint: Literal["PFSR", "OS"] = Field(
        "PFSR", description="Endpoint of the model: PFSR (default) or OS from rechallenge."
    )
    markers: MarkerSettings = Field(
        default_factory=MarkerSettings, description="Rules of the derived markers."
    )
    covariates: list[str] = Field(
        default_factory=lambda: ["nlr", "bmi", "ecog", "pdl1_retest"],
        min_length=1,
        description="Model terms: " + ", ".join(KNOWN_COVARIATES) + ".",
    )
    splines: dict[str, int] = Field(
        default_factory=dict,
        description="Continuous covariates modelled as restricted cubic splines, with the "
        "number of knots (3 to 7), e.g. {nlr: 3} (knots as R rms::rcs).",
    )
    min_n: int = Field(
        50, ge=2, description="Below this many analysed patients the section is off."
    )
    min_epv: float = Field(
        10.0, gt=0, description="Events per model degree of freedom below which it warns."
    )
    penalty: PenaltySettings = Field(default_factory=PenaltySettings)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)

    @field_validator("covariates")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        bad = [
            unknown_name("covariate", v, KNOWN_COVARIATES)
            for v in value
            if v not in KNOWN_COVARIATES
        ]
        if bad:
            raise ValueError("; ".join(bad))
        twice = sorted({v for v in value if value.count(v) > 1})
        if twice:
            raise ValueError(f"covariates repeated: {', '.join(twice)}")
        return value

    @model_validator(mode="after")
    def _splines_are_continuous_covariates(self) -> PrognosticSettings:
        problems = []
        for name, knots in self.splines.items():
            if name not in self.covariates:
                problems.append(f"spline {name!r} is not one of the covariates")
            elif name not in CONTINUOUS:
                problems.append(
                    f"spline {name!r}: only continuous covariates ({', '.join(CONTINUOUS)})"
                )
            if not 3 <= knots <= 7:
                problems.append(f"spline {name!r}: knots must be 3 to 7, got {knots}")
        if problems:
            raise ValueError("splines: " + "; ".join(problems))
        return self
