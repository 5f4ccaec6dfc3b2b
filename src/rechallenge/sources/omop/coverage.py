"""Concept coverage of an OMOP instance, as data-quality warnings (the problems format).

Read with every study from a real instance (not a converted one, whose facts are complete
by construction), so a researcher sees what the mapping could not reach before reading any
result:

- OMOP-030: drug exposures of the screened persons, how many map to a drug-dictionary
  ingredient through `drug_concept_id`, how many only through `drug_source_value`, how many
  to neither (not read); and the same split for the anti-PD-(L)1 exposures;
- OMOP-031: lab results whose unit has no known concept (nor `omop.unit_aliases` entry);
- OMOP-032: per fact (stage, smoking, driver, PD-L1 TPS, metastases, death, ECOG at a line
  start, labs), how many screened persons lack it.

Counts only: no person id or date is named.
"""

from __future__ import annotations

import pandas as pd

from rechallenge.data.drugs import load_dictionary
from rechallenge.errors import Problem

UNKNOWN_UNIT = "unit_concept_id "  # prefix of the unit text the source gives unmapped units

#: Patient facts counted by OMOP-032: column -> words, fix.
FACTS = {
    "stage": ("a stage group", "load Cancer Modifier stage measurements"),
    "smoking": ("a smoking status", "load Tobacco smoking status observations (43054909)"),
    "driver": ("a driver gene result", "load gene variant measurements with a result"),
    "pdl1_tps": ("a PD-L1 TPS", "list the instance's TPS concepts in omop.pdl1_tps_concept_ids"),
    "metastases": ("a metastasis site", "load Cancer Modifier / NAACCR metastasis measurements"),
}


def coverage_problems(
    total: int,
    drugs: pd.DataFrame,
    patients: pd.DataFrame,
    lines: pd.DataFrame,
    labs: pd.DataFrame,
) -> list[Problem]:
    """OMOP-030/031/032 warnings from the rows read (`drugs` with its `inn` column)."""
    return [
        *_exposures(total, drugs),
        *_units(labs),
        *_lacking(patients, lines, labs),
    ]


def _warning(code: str, table: str, message: str, fix: str) -> Problem:
    return Problem(code, table, message, fix, severity="warning")


def _exposures(total: int, drugs: pd.DataFrame) -> list[Problem]:
    mapped = drugs.dropna(subset=["inn"])
    by_concept = int(mapped["ingredient_id"].notna().sum())
    by_source = len(mapped) - by_concept
    dictionary = load_dictionary()
    pd1 = {inn for inn in mapped["inn"].unique() if (d := dictionary.lookup(inn)) and d.pd1_axis}
    ici = mapped[mapped["inn"].isin(pd1)]
    ici_concept = int(ici["ingredient_id"].notna().sum())
    message = (
        f"concept coverage: of {total} drug exposure(s) of the screened persons, {by_concept} "
        f"map to a dictionary ingredient by drug_concept_id, {by_source} by drug_source_value "
        f"only, {max(total - len(mapped), 0)} to neither (not read: other drugs or unmapped); "
        f"of {len(ici)} anti-PD-(L)1 exposure(s), {ici_concept} by concept and "
        f"{len(ici) - ici_concept} by source value"
    )
    return [
        _warning(
            "OMOP-030",
            "drug_exposure",
            message,
            "map drugs to RxNorm ingredients in the ETL; add local names to the drug dictionary",
        )
    ]


def _units(labs: pd.DataFrame) -> list[Problem]:
    if labs.empty:
        return []
    unknown = int(labs["unit"].astype(str).str.startswith(UNKNOWN_UNIT).sum())
    if not unknown:
        return []
    return [
        _warning(
            "OMOP-031",
            "measurement",
            f"concept coverage: {unknown} of {len(labs)} lab result(s) have a unit with no "
            "known concept (unit_concept_id 0, NULL or unlisted)",
            "map the units in the ETL, or list unit_source_value spellings in omop.unit_aliases",
        )
    ]


def _lacking(patients: pd.DataFrame, lines: pd.DataFrame, labs: pd.DataFrame) -> list[Problem]:
    """One warning per fact some screened persons lack."""
    n = len(patients)
    out = []
    for column, (words, fix) in FACTS.items():
        blank = int((patients[column].astype(str) == "").sum())
        if blank:
            out.append(_lacking_one("patients", column, words, blank, n, fix))
    if not lines.empty:
        ecog = lines.assign(blank=lines["ecog"].astype(str) == "")
        without = int(ecog.groupby("patient_id")["blank"].all().sum())
        if without:
            fix = "load ECOG measurements (LOINC 89247-1) within omop.ecog_window_days of a start"
            out.append(
                _lacking_one("treatments", "ecog", "an ECOG at any line start", without, n, fix)
            )
    with_labs = set(labs["patient_id"]) if not labs.empty else set()
    no_labs = sum(1 for p in patients["patient_id"] if p not in with_labs)
    if no_labs:
        fix = "load the lab measurements of the reference (concepts.LAB_TESTS)"
        out.append(_lacking_one("labs", "test", "any lab result", no_labs, n, fix))
    return out


def _lacking_one(table: str, column: str, words: str, count: int, n: int, fix: str) -> Problem:
    return Problem(
        "OMOP-032",
        table,
        f"concept coverage: {count} of {n} screened person(s) lack {words}",
        fix,
        column=column,
        severity="warning",
    )
