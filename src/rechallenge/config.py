"""The study configuration: every analysis choice, named, with the seed study's protocol as default.

A YAML file is validated by pydantic; unknown keys are an error that names them, and every
name the configuration refers to (criteria, label keys, subgroups) is checked with a
"did you mean" suggestion. Names that only the data can confirm (Cox covariates, subgroup
and custom-criterion columns) are checked by `check_names_against` once the study is read,
before any analysis. Settings that govern one rule engine live beside that engine
(`CohortSettings`, `RecistSettings`, ...) and are gathered here, so each default is stated once.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rechallenge.analysis.competing_settings import CompetingRiskSettings
from rechallenge.analysis.context_settings import LiteratureSettings
from rechallenge.analysis.prognostic_settings import PrognosticSettings
from rechallenge.data.mappings import DataMappings
from rechallenge.errors import ConfigDeprecationWarning, ConfigError, did_you_mean, unknown_name
from rechallenge.figures.settings import FigureStyle
from rechallenge.labels import KINDS, default_catalogue, split_override_key
from rechallenge.rules.adverse_events import AdverseEventSettings
from rechallenge.rules.cohort import CohortSettings, CustomCriterion
from rechallenge.rules.recist import RecistSettings
from rechallenge.rules.resistance import ResistanceSettings
from rechallenge.sources.omop.settings import OmopSettings
from rechallenge.sources.omop.spark_settings import SparkSettings

__all__ = [
    "CohortSettings",
    "ConfigError",
    "CustomCriterion",
    "DataSettings",
    "EndpointSettings",
    "OutputSettings",
    "StatisticsSettings",
    "StudyConfig",
    "SubgroupSettings",
    "check_names_against",
    "config_template",
    "load_config",
]

DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the conversion R users and most papers apply


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataSettings(DataMappings, _Section):
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
    data_cutoff: str | None = Field(
        None, description="Data cut-off date (YYYY-MM-DD, quoted or not), if any."
    )

    @field_validator("data_cutoff", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        """An unquoted YAML date arrives as `datetime.date`; either way it is kept as ISO text."""
        if isinstance(value, dt.datetime):
            raise ValueError("give a date without a time, e.g. 2024-12-01")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise ValueError(f"{value!r} is not a date written YYYY-MM-DD") from None
        return value


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


SMOKING = "smoking_status"  # the covariate: ever vs never, as the baseline table shows it
SMOKING_ALIAS = "smoking"  # the patients column it is derived from (older spelling)
DERIVED_COVARIATES = ("age", SMOKING)  # age at the rechallenge start; smoking ever/never


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
    competing_risks: CompetingRiskSettings | None = Field(
        None,
        description="Optional competing-risks analysis: cumulative incidence of progression "
        "with death without progression as a competing event, Gray's test by subgroup; "
        "unset, no such analysis.",
    )

    @field_validator("cox_univariable", "cox_multivariable", mode="before")
    @classmethod
    def _smoking_alias(cls, value: object) -> object:
        """`smoking` (the data column) is accepted for `smoking_status`, with a notice."""
        if not isinstance(value, list) or SMOKING_ALIAS not in value:
            return value
        warnings.warn(
            f"Cox covariate {SMOKING_ALIAS!r} is now spelt {SMOKING!r} (smoking history, ever "
            f"vs never, from the patients column {SMOKING_ALIAS!r}); the old name still works "
            "but will be refused in a later version",
            ConfigDeprecationWarning,
            stacklevel=2,
        )
        return [SMOKING if v == SMOKING_ALIAS else v for v in value]

    @model_validator(mode="after")
    def _subgroup_names_unique(self) -> StatisticsSettings:
        names = [s.name for s in self.subgroups]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"subgroup names must be unique; repeated: {', '.join(twice)}")
        return self


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
    figures: FigureStyle = Field(
        default_factory=FigureStyle,
        description="Figure size, font, palette, annotations and per-patient layouts.",
    )
    literature: LiteratureSettings | None = Field(
        None,
        description="Published studies to pool this study against (report section "
        "'Context'); unset, no Context section.",
    )
    prognostic: PrognosticSettings | None = Field(
        None,
        description="A multivariable prognostic Cox model of derived markers (report "
        "section 'Prognostic model'); unset, no such section.",
    )
    omop: OmopSettings = Field(default_factory=OmopSettings)
    spark: SparkSettings | None = Field(
        None,
        description="Read the OMOP tables on Spark: a Parquet folder as temporary views of a "
        "session built from these settings, or the master of a `spark://` URL; unset, "
        "DuckDB reads a folder.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Overrides of the human labels printed in tables, figures and the report, "
        "by dotted key (e.g. 'variable.smoking_status: Tobacco use').",
    )

    @field_validator("labels")
    @classmethod
    def _label_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        """Every key is `kind.code` with a known kind; codes of fixed kinds must exist."""
        bad = [problem for key in value if (problem := _label_key_problem(key))]
        if bad:
            raise ValueError("; ".join(bad))
        return value

    @model_validator(mode="after")
    def _compare_by_is_a_subgroup(self) -> StudyConfig:
        by = self.output.baseline_compare_by
        names = [s.name for s in self.statistics.subgroups]
        if by is not None and by not in names:
            raise ValueError("output.baseline_compare_by: " + unknown_name("subgroup", by, names))
        return self


# Label kinds whose codes come from the data or the configuration; the others are a fixed list.
OPEN_LABEL_KINDS = frozenset({"variable", "level", "criterion", "failure"})


def _label_key_problem(key: str) -> str | None:
    """Why a label override key is wrong, or None (open kinds are checked with the data)."""
    try:
        kind, code = split_override_key(key)
    except KeyError:
        kind = key.partition(".")[0]
        if kind in KINDS:
            return f"label key {key!r} needs a code after {kind + '.'!r}"
        return f"label key {key!r}: " + unknown_name("kind", kind, KINDS)
    known = default_catalogue()[kind]
    if kind not in OPEN_LABEL_KINDS and code not in known:
        return f"label key {key!r}: " + unknown_name(f"{kind} code", code, known)
    return None


ConfigSource = Annotated[str | Path | None, "a YAML path, or None for the defaults"]


def load_config(path: ConfigSource = None) -> StudyConfig:
    """Read and validate a YAML configuration (safe_load only); None gives the defaults.

    A YAML syntax error names the file, line and column; a missing file says so.
    """
    if path is None:
        return StudyConfig()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration {path}: {exc}") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_yaml_location(path, exc)) from None
    except ValueError as exc:  # PyYAML builds dates while parsing: 2024-13-01 fails here
        raise ConfigError(f"{_bad_date_location(path, text)}: not a valid date ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of sections")
    return config_from_mapping(raw, str(path))


def config_from_mapping(raw: dict[str, Any], name: str = "configuration") -> StudyConfig:
    """Validate a configuration given as a dict (as from YAML); errors name every bad key."""
    try:
        return StudyConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(name, exc)) from None


def _yaml_location(path: Path, exc: yaml.MarkedYAMLError) -> str:
    """``study.yaml, line 3, column 9: mapping values are not allowed here``."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    what = exc.problem or exc.context or "not valid YAML"
    return f"{where}: YAML syntax error: {what}"


def _bad_date_location(path: Path, text: str) -> str:
    """``study.yaml, line 3, column 16`` of the first date-like value that is no date."""
    root = yaml.compose(text)
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":timestamp"):
            try:
                yaml.safe_load(node.value)
            except ValueError:
                mark = node.start_mark
                return f"{path}, line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(value for _, value in node.value)
    return str(path)


def check_names_against(
    config: StudyConfig, patients_columns: Collection[str], levels: dict[str, set[str]]
) -> None:
    """Names the configuration takes from the data exist in it (raise ConfigError otherwise).

    Checked: Cox covariates (a subgroup name, `age`, `smoking_status` or a patients column),
    subgroup columns (`ecog`, `age` or a patients column), custom-criterion columns, and the
    codes of `variable.`/`level.` label keys (`levels` maps a column to its values as text).
    """
    columns = set(patients_columns) - {"patient_id"}
    subgroups = {s.name: s for s in config.statistics.subgroups}
    columns -= {"source_row"}
    covariates = {*subgroups, *DERIVED_COVARIATES, *columns} - {SMOKING_ALIAS}
    problems = [
        f"statistics.{where}: " + unknown_name("covariate", name, covariates)
        for where in ("cox_univariable", "cox_multivariable")
        for name in getattr(config.statistics, where)
        if name not in covariates
    ]
    sub_columns = {"ecog", "age", *columns}
    problems += [
        f"statistics.subgroups[{s.name}].column: " + unknown_name("column", s.column, sub_columns)
        for s in config.statistics.subgroups
        if s.column not in sub_columns
    ]
    problems += [
        f"cohort.custom[{c.name}].column: " + unknown_name("patients column", c.column, columns)
        for c in config.cohort.custom
        if c.column not in columns
    ]
    problems += _open_label_problems(config, covariates, levels)
    if problems:
        lines = [f"{len(problems)} name(s) in the configuration do not match the study data"]
        raise ConfigError("\n".join([lines[0], *(f"  - {p}" for p in problems)]))


def _open_label_problems(
    config: StudyConfig, variables: set[str], levels: dict[str, set[str]]
) -> list[str]:
    """Label keys of open kinds whose code names nothing in the catalogue, data or config."""
    catalogue = default_catalogue()
    criteria = {*catalogue["criterion"], *(c.name for c in config.cohort.custom)}
    known_levels = {f"{v}.{x}" for v, values in levels.items() for x in values}
    known_levels |= {f"{s.name}.{x}" for s in config.statistics.subgroups for x in (s.low, s.high)}
    known = {
        "variable": {*catalogue["variable"], *variables},
        "level": {*catalogue["level"], *known_levels},
        "criterion": criteria,
        "failure": criteria,
    }
    problems = []
    for key in config.labels:
        kind, code = split_override_key(key)
        if kind in known and code not in known[kind]:
            problems.append(f"labels: key {key!r}: " + unknown_name(f"{kind}", code, known[kind]))
    return problems


def _explain(name: str, exc: ValidationError) -> str:
    """One line per bad key: its dotted path and what is wrong (unknown keys named)."""
    lines = [f"{name}: {exc.error_count()} problem(s) in the configuration"]
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            siblings = _sibling_keys(error["loc"])
            hint = did_you_mean(str(error["loc"][-1]), siblings) if siblings else ""
            lines.append(
                f"  - unknown key {where!r}{hint} (check the spelling; `rechallenge init` "
                "writes every key)"
            )
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"  - {where}: {message}" if where else f"  - {message}")
    return "\n".join(lines)


def _sibling_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed beside an unknown key, found by walking the models along `loc`."""
    model: Any = StudyConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


WIDTH = 92
FILE_REFERENCE = re.compile(r"\s*\(?(?:see )?[\w./-]+\.md(?: §[\d.]+)?\)?;?")


def config_template() -> str:
    """A commented YAML template with every setting at its default; comments stand alone.

    The cohort section lists every criterion with its description and shows a worked
    custom criterion with the permitted operators; the labels section lists the kinds.
    """
    lines = _comment(
        "rechallenge study configuration. Every value below is the default; delete what you "
        "do not change. Unknown keys and unknown names are an error with a suggestion. "
        "Use it with: rechallenge run DATA --config study.yaml --out results",
        0,
    )
    lines += _template_lines(StudyConfig(), indent=0)
    return "\n".join(lines) + "\n"


def _comment(text: str, indent: int, hanging: int = 0) -> list[str]:
    """`text` as wrapped `# ` lines, without references to files a user may not have."""
    pad = "  " * indent
    text = FILE_REFERENCE.sub("", text).replace("( ", "(").replace("()", "").strip()
    return textwrap.wrap(
        text,
        WIDTH - len(pad),
        initial_indent=pad + "# ",
        subsequent_indent=pad + "# " + " " * hanging,
    )


def _cohort_notes(indent: int) -> list[str]:
    """Every protocol criterion (name: description) and a worked custom criterion."""
    from rechallenge.rules.cohort import protocol_criteria

    out = _comment(
        "Criteria of the protocol, in the order they are applied (name: description):", indent
    )
    for criterion in protocol_criteria(CohortSettings()):
        line = f"- {criterion.name} ({criterion.kind}): {criterion.description}"
        out += _comment(line, indent, hanging=2)
    return out + _comment("Switch one off by name, e.g. disabled: [age_range].", indent)


def _custom_example(indent: int) -> list[str]:
    """A worked custom criterion, commented so that removing '# ' makes it valid YAML."""
    from rechallenge.rules.cohort import OPERATORS

    pad = "  " * indent
    out = _comment(
        "A custom criterion keeps (inclusion) or drops (exclusion) patients by one patients "
        f"column; operators: {', '.join(OPERATORS)} (in and not_in take a list; not_blank "
        "takes no value). Example: remove '# ' from the lines below and the line "
        "'custom: []'.",
        indent,
    )
    example = [
        "custom:",
        "  - name: pdl1_known",
        "    description: PD-L1 TPS recorded",
        "    column: pdl1_tps",
        "    operator: not_blank",
        "  - name: squamous_only",
        "    description: Squamous cell carcinoma",
        "    column: histology",
        "    operator: in",
        "    value: [squamous]",
        "    kind: inclusion",
        "  - name: tps_50_or_more",
        "    description: PD-L1 TPS of 50% or more excluded",
        "    column: pdl1_tps",
        "    operator: '>='",
        "    value: 50",
        "    kind: exclusion",
    ]
    return out + [f"{pad}# {line}" for line in example]


def _labels_notes() -> list[str]:
    return _comment(
        "Label overrides, by dotted key kind.code; kinds: " + ", ".join(KINDS) + ". Examples: "
        "'variable.smoking_status: Tobacco use', 'level.histology.squamous: Squamous', "
        "'criterion.age_range: Aged 18-80 years'.",
        0,
    )


def _template_lines(model: BaseModel, indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out.append("")
            doc = (type(value).__doc__ or "").strip().splitlines()
            out += _comment(field.description or (doc[0] if doc else name), indent)
            if isinstance(value, CohortSettings):
                out += _cohort_notes(indent)
            out.append(f"{pad}{name}:")
            out += _template_lines(value, indent + 1)
            continue
        if name == "labels" and indent == 0:
            out.append("")
            out += _labels_notes()
        elif field.description:
            out += _comment(field.description, indent)
        if name == "custom" and isinstance(model, CohortSettings):
            out += _custom_example(indent)
        dumped = value
        if isinstance(dumped, list) and dumped and isinstance(dumped[0], BaseModel):
            dumped = [d.model_dump() for d in dumped]
        text = yaml.safe_dump({name: dumped}, allow_unicode=True, sort_keys=False).rstrip()
        out += [pad + line for line in text.splitlines()]
    return out
