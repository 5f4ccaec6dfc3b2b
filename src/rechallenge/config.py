"""The study configuration: every analysis choice, named, with the seed study's protocol as default.

A YAML file is validated by pydantic; unknown keys are an error that names them. Settings
that govern one rule engine live beside that engine (e.g. `RecistSettings`) and are
gathered here, so each default is stated once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rechallenge.errors import ConfigError
from rechallenge.rules.adverse_events import AdverseEventSettings
from rechallenge.rules.recist import RecistSettings
from rechallenge.rules.resistance import ResistanceSettings

DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the conversion R users and most papers apply


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataSettings(_Section):
    """How input files are read; each transformation is off unless named here."""

    encoding: str = Field("utf-8", description="Text encoding of the CSV files.")
    partial_dates: Literal["error", "first", "middle", "last"] = Field(
        "error",
        description="Partial dates (2023-05, 2023): error, or impute the first, middle (15th; "
        "30 June) or last day of the period; each imputed value is listed in the run log.",
    )
    excel_serial_dates: bool = Field(
        False, description="Convert numbers in date columns as Excel date serials."
    )


class CustomCriterion(_Section):
    """A simple user criterion: keep patients whose `column` satisfies `operator value`."""

    name: str
    description: str
    column: str = Field(description="A patients column (contract or extra column).")
    operator: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "not_blank"]
    value: Any = None
    kind: Literal["inclusion", "exclusion"] = "inclusion"


class CohortSettings(_Section):
    """Inclusion and exclusion criteria of the seed protocol, each switchable and tunable."""

    disabled: list[str] = Field(
        default_factory=list, description="Names of criteria to switch off."
    )
    age_min: int = Field(18, description="Youngest age (years) at the rechallenge start.")
    age_max: int = Field(75, description="Oldest age (years) at the rechallenge start.")
    ecog_max: int = Field(2, ge=0, le=5, description="Highest ECOG PS at the rechallenge line.")
    excluded_drivers: list[str] = Field(
        default_factory=lambda: ["EGFR", "ALK", "ROS1", "BRAF", "MET", "RET", "NTRK", "HER2"],
        description="Driver alterations counted as targetable (excluded).",
    )
    excluded_stop_reasons: list[str] = Field(
        default_factory=lambda: ["clinical_decision", "marrow_suppression", "irae"],
        description="Reasons for stopping the first ICI course that exclude a patient.",
    )
    custom: list[CustomCriterion] = Field(
        default_factory=list, description="Extra simple criteria, evaluated after the protocol's."
    )


class EndpointSettings(_Section):
    """How durations and censoring are computed."""

    days_per_month: float = Field(DAYS_PER_MONTH, description="Days per month for display.")
    censoring: Literal["last_contact", "last_assessment"] = Field(
        "last_contact",
        description="Censor PFS at the last date known alive (last_contact) or at the last "
        "adequate tumour assessment (last_assessment, the FDA convention).",
    )
    landmarks_months: list[float] = Field(
        default_factory=lambda: [6.0, 12.0], description="Survival rates reported at these months."
    )
    data_cutoff: str | None = Field(None, description="Data cut-off date (YYYY-MM-DD), if any.")


class SubgroupSettings(_Section):
    """A two-level subgroup built from one column; used for KM, log-rank and Cox."""

    name: str
    column: str = Field(description="Column: 'ecog' (of the rechallenge line) or a patients one.")
    threshold: float = Field(description="Values >= threshold form the `high` level.")
    low: str = Field(description="Label of values below the threshold (the Cox reference).")
    high: str = Field(description="Label of values at or above the threshold.")
    label: str = Field(description="How tables and figures name the comparison.")


def _default_subgroups() -> list[SubgroupSettings]:
    return [
        SubgroupSettings(
            name="ecog_group",
            column="ecog",
            threshold=2,
            low="0-1",
            high="2",
            label="ECOG PS 2 vs 0–1",
        ),
        SubgroupSettings(
            name="pdl1",
            column="pdl1_tps",
            threshold=1,
            low="negative",
            high="positive",
            label="PD-L1 positive vs negative (TPS ≥ 1%)",
        ),
    ]


class StatisticsSettings(_Section):
    """Statistical conventions; each is printed in the report's methods."""

    km_conf_type: Literal["log", "log-log", "plain", "logit", "arcsin"] = Field(
        "log", description="Pointwise KM interval (R survfit conf.type; R's default is log)."
    )
    median_ci: Literal["log", "log-log", "plain", "logit", "arcsin", "spss", "sas"] = Field(
        "log",
        description="Median CI: R's Brookmeyer-Crowley inversion of the pointwise band "
        "(log, ...), SPSS's symmetric median ± z·SE (the seed paper's printed CIs), or SAS.",
    )
    cox_ties: Literal["efron", "breslow"] = Field("efron", description="Cox tie handling.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Two-sided significance level.")
    proportion_ci: Literal["clopper-pearson", "wilson"] = Field(
        "clopper-pearson", description="CI for ORR and DCR."
    )
    subgroups: list[SubgroupSettings] = Field(default_factory=_default_subgroups)
    cox_univariable: list[str] = Field(
        default_factory=lambda: ["ecog_group", "pdl1", "age", "sex", "smoking_status", "histology"],
        description="Covariates (subgroup names or patients columns) for univariable Cox of PFSR.",
    )
    cox_multivariable: list[str] = Field(
        default_factory=list, description="Covariates of an optional multivariable model."
    )
    firth_on_monotone: bool = Field(
        True,
        description="Report Firth's penalised Cox when ordinary Cox shows monotone likelihood.",
    )


class OutputSettings(_Section):
    """What is written and how."""

    show_ids: bool = Field(False, description="Show patient IDs and dates in outputs.")
    pdf: bool = Field(False, description="Also write report.pdf (needs the pdf extra).")
    baseline_compare_by: str | None = Field(
        None,
        description="Compare baseline characteristics between the levels of this subgroup "
        "(e.g. ecog_group); the test for each row is chosen and named.",
    )
    baseline_summary: Literal["median_range", "median_iqr", "mean_sd"] = Field(
        "median_range", description="How continuous baseline variables are summarised."
    )
    small_cell_threshold: int | None = Field(
        None,
        ge=1,
        description="In shareable tables, counts from 1 to this number are shown as '< n' and "
        "flagged (small-cell suppression); off when empty.",
    )
    page_size: Literal["A4", "Letter"] = Field(
        "A4", description="Page size of the Word documents and of the printed report."
    )


class StudyConfig(_Section):
    """Everything a run needs besides the data."""

    title: str = Field(
        "ICI rechallenge in advanced NSCLC with acquired immune resistance",
        description="Shown in the report.",
    )
    data: DataSettings = Field(default_factory=DataSettings)
    cohort: CohortSettings = Field(default_factory=CohortSettings)
    resistance: ResistanceSettings = Field(default_factory=ResistanceSettings)
    response: RecistSettings = Field(default_factory=RecistSettings)
    adverse_events: AdverseEventSettings = Field(default_factory=AdverseEventSettings)
    endpoints: EndpointSettings = Field(default_factory=EndpointSettings)
    statistics: StatisticsSettings = Field(default_factory=StatisticsSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Overrides of the human labels printed in tables, figures and the report, "
        "by dotted key (e.g. 'variable.smoking_status: Tobacco use').",
    )


ConfigSource = Annotated[str | Path | None, "a YAML path, or None for the defaults"]


def load_config(path: ConfigSource = None) -> StudyConfig:
    """Read and validate a YAML configuration (safe_load only); None gives the defaults."""
    if path is None:
        return StudyConfig()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the configuration {path.name}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: the configuration must be a mapping of sections")
    try:
        return StudyConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(path.name, exc)) from exc


def _explain(name: str, exc: ValidationError) -> str:
    """One line per bad key: its dotted path and what is wrong (unknown keys named)."""
    lines = [f"{name}: {exc.error_count()} problem(s) in the configuration"]
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            lines.append(f"  - unknown key {where!r} (check the spelling; see `rechallenge init`)")
        else:
            lines.append(f"  - {where}: {error['msg']}")
    return "\n".join(lines)


def config_template() -> str:
    """A commented YAML template with every setting at its default."""
    lines = [
        "# rechallenge study configuration. Every value below is the default; delete what",
        "# you do not change. Unknown keys are an error.",
    ]
    lines += _template_lines(StudyConfig(), indent=0)
    return "\n".join(lines) + "\n"


def _template_lines(model: BaseModel, indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.description:
            out.append(f"{pad}# {field.description}")
        if isinstance(value, BaseModel):
            out.append(f"{pad}{name}:")
            out += _template_lines(value, indent + 1)
        else:
            dumped = value.model_dump() if isinstance(value, BaseModel) else value
            if isinstance(dumped, list) and dumped and isinstance(dumped[0], BaseModel):
                dumped = [d.model_dump() for d in dumped]
            text = yaml.safe_dump({name: dumped}, allow_unicode=True, sort_keys=False).rstrip()
            out += [pad + line for line in text.splitlines()]
    return out
