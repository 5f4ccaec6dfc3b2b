"""Settings of the OMOP CDM source (`omop:` in the study configuration).

Pure pydantic: importing this module never loads Ibis or a database driver, so the study
configuration can name it without the `omop` extra installed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LineRules(BaseModel):
    """Rule-based line of therapy (reference §2 option A, Merck/Regenstrief, JMIR-validated).

    Steps (docs/sources.md, "Line of therapy"): a line starts at the first administration;
    drugs first given within `regimen_window_days` of the line start form its regimen; a drug
    outside the regimen starts a new line unless it substitutes for one inside it; a pause
    longer than `gap_days` between administrations starts a new line unless every drug of the
    line is in `gap_exempt`. A drug that stops while others go on never starts a line
    (continuation maintenance: pemetrexed, bevacizumab, atezolizumab, gemcitabine); switch
    maintenance is not applied, so a new drug after the window always starts a line.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    regimen_window_days: int = Field(28, ge=0, description="r_window: regimen window in days.")
    gap_days: int = Field(
        180, ge=1, description="l_disgap: a longer pause starts a new line (JMIR refined: 180)."
    )
    substitutions: list[tuple[str, str]] = Field(
        default_factory=lambda: [("cisplatin", "carboplatin"), ("paclitaxel", "nab-paclitaxel")],
        description="Pairs of INNs that replace each other within a line (both directions).",
    )
    gap_exempt: list[str] = Field(
        default_factory=lambda: [
            "erlotinib",
            "afatinib",
            "brigatinib",
            "crizotinib",
            "ceritinib",
            "alectinib",
            "gefitinib",
            "osimertinib",
        ],
        description="Oral targeted agents whose pauses never start a new line.",
    )


class OmopSettings(BaseModel):
    """How a study is read from an OMOP CDM v5.4 instance (docs/sources.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    database: str | None = Field(
        None,
        description="Connection URL (postgresql://…, sc://… for Spark Connect); the DATA "
        "argument or --database overrides it.",
    )
    schema_name: str | None = Field(
        None,
        alias="schema",
        description="Schema holding the CDM tables; default: the one holding `person`.",
    )
    lines: LineRules = Field(default_factory=LineRules)
    progression: Literal["episode", "episode_or_proxy", "proxy"] = Field(
        "episode_or_proxy",
        description="episode: Oncology-extension Disease Progression episodes only; "
        "episode_or_proxy: those, or the proxy when the instance has none; proxy: always the "
        "proxy. A proxy date is marked `proxy:*` in treatments.progression_source.",
    )
    proxy: Literal["next_line_start", "next_line_or_death"] = Field(
        "next_line_or_death",
        description="The progression proxy: the next line's start, or also death on the line.",
    )
    last_contact: Literal["events", "op_end"] = Field(
        "events",
        description="events: the latest clinical record; op_end: observation_period_end_date "
        "(claims-like data only: EHR ETLs pad it).",
    )
    ecog_window_days: int = Field(
        30, ge=0, description="ECOG of a line: the last value in [start − window, start]."
    )
    pdl1_tps_concept_ids: list[int] = Field(
        default_factory=list,
        description="Measurement concepts holding PD-L1 TPS in % (unit 8554). No standard TPS "
        "concept is verified, so none is assumed: list your instance's concepts.",
    )
    convention: bool = Field(
        False,
        description="Read the instance by the rechallenge convention (lesions as Tumor size "
        "measurements, graded adverse events, lines as Treatment Regimen episodes; "
        "docs/omop.md) even when its metadata does not declare it. Off: only an instance "
        "written by `rechallenge convert` (its metadata row) is read so.",
    )
    unit_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="unit_source_value → UCUM code for rows whose unit_concept_id is 0/NULL "
        "(e.g. 'K/uL': '10*3/uL').",
    )
