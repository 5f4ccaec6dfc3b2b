"""Write the example cohort (examples/seed_cohort) as a small synthetic OMOP CDM v5.4.

    python examples/omop_cohort/generate.py                 # omop.duckdb and parquet/ here
    python examples/omop_cohort/generate.py --out DIR       # elsewhere
    python examples/omop_cohort/generate.py --persons 10000 --out DIR   # scaled copy

Deterministic (no randomness): person k is seed patient ((k - 1) mod 24) + 1 with its dates
shifted by whole weeks, so a scaled copy has the same shape. Concept ids come from
shared/reference/omop-cdm.md where it verifies them; concepts it marks unverified get ids in
the site-local range (≥ 2,000,000,000) and are read by code, as the reader resolves them.
Conventions (docs/sources.md): one administration row per dose (q21d from the line start
to its last dose, end = start); `stop_reason` on a line's last dose holds its end reason;
progression as a Disease Progression episode (32677) under a Disease First Occurrence
episode (32528); best response as an observation valued with a disease-status concept;
no lesion rows and no adverse events (OMOP has no home for them), and no `metadata` row
declaring the project convention: this is a real-instance-like CDM read by the reference
mapping alone. `rechallenge convert` writes the same cohort by the convention, losslessly.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from rechallenge.sources.omop import convention as V

HERE = Path(__file__).resolve().parent
SEED = HERE.parent / "seed_cohort"

# Concept ids shared with the converter (rechallenge.sources.omop.convention).
EHR, LOCAL, ECOG, PDL1 = V.EHR, V.LOCAL, V.ECOG, V.PDL1
DISEASE_STATUS_OBS, STAGE_IDS, ADENOSQUAMOUS = V.DISEASE_STATUS_OBS, V.STAGE_IDS, V.ADENOSQUAMOUS
HISTOLOGY, SEX, SMOKING = V.HISTOLOGY, V.SEX, V.SMOKING
METASTASIS, RESPONSE = V.METASTASIS, V.RESPONSE
INGREDIENT = {
    "pembrolizumab": (45775965, "RxNorm", "1547545"),
    "sintilimab": (36854475, "RxNorm Extension", "OMOP5172091"),
    "camrelizumab": (36853469, "RxNorm Extension", "OMOP5171084"),
    "tislelizumab": (36848998, "RxNorm Extension", "OMOP5166614"),
    "toripalimab": (747052, "RxNorm", "2669406"),
    "cisplatin": (1397599, "RxNorm", "2555"),
    "carboplatin": (1344905, "RxNorm", "40048"),
    "pemetrexed": (1304919, "RxNorm", "68446"),
    "paclitaxel": (1378382, "RxNorm", "56946"),
    "docetaxel": (1315942, "RxNorm", "72962"),
    "gemcitabine": (1314924, "RxNorm", "12574"),
    "bevacizumab": (1397141, "RxNorm", "253337"),
}
# Clinical drugs that roll up to an ingredient (reference: ✔ OL).
CLINICAL = {"cisplatin": (35604087, "1736854"), "paclitaxel": (1378388, "583214")}
LAB = {"hemoglobin": 3000963, "neutrophils": 3013650, "leukocytes": 3000905}
UNIT = {"g/L": 8636, "g/dL": 8713, "10^9/L": 9444}
EGFR, POSITIVE, NEGATIVE = V.DRIVER["EGFR"], V.POSITIVE, V.NEGATIVE


def _rows(name: str) -> list[dict[str, str]]:
    with (SEED / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _d(text: str, shift: int = 0) -> dt.date | None:
    return dt.date.fromisoformat(text) + dt.timedelta(days=shift) if text else None


class Cdm:
    """Accumulates CDM rows table by table, with running ids."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, object]]] = {}

    def add(self, table: str, **row: object) -> int:
        rows = self.tables.setdefault(table, [])
        key = f"{table}_id"
        if table not in {"person", "death"}:
            row = {key: len(rows) + 1, **row}
        rows.append(row)
        return len(rows)


def build(persons: int = 24) -> dict[str, pd.DataFrame]:
    """All CDM tables for `persons` persons (24: the seed cohort itself)."""
    patients = _rows("patients")
    lines = _rows("treatments")
    labs = _rows("labs")
    cdm = Cdm()
    for k in range(1, persons + 1):
        p = patients[(k - 1) % len(patients)]
        shift = 7 * ((k - 1) // len(patients))
        _person(cdm, k, p, shift)
        own = [t for t in lines if t["patient_id"] == p["patient_id"]]
        _treatments(cdm, k, own, shift)
        for lab in (r for r in labs if r["patient_id"] == p["patient_id"]):
            _lab(cdm, k, lab, shift)
    frames = {name: _typed(pd.DataFrame(rows)) for name, rows in cdm.tables.items()}
    frames |= {name: _typed(frame) for name, frame in _vocabulary().items()}
    frames["cdm_source"] = pd.DataFrame(
        [
            {
                "cdm_source_name": "rechallenge synthetic example cohort",
                "cdm_version": "v5.4",
                "vocabulary_version": "rechallenge subset of reference omop-cdm.md",
            }
        ]
    )
    return frames


TEXT_IDS = {"domain_id", "vocabulary_id", "concept_class_id", "relationship_id"}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Explicit column types, so all-blank columns keep their CDM type in DuckDB and Parquet."""
    out = frame.copy()
    for name in out.columns:
        if name in TEXT_IDS:
            out[name] = out[name].astype("string")
        elif name.endswith("_id") or name in {
            "year_of_birth",
            "month_of_birth",
            "day_of_birth",
            "days_supply",
            "min_levels_of_separation",
            "max_levels_of_separation",
        }:
            out[name] = out[name].astype("Int64")
        elif name.endswith("_date"):
            out[name] = out[name].astype(object).where(out[name].notna(), None)  # DATE
        elif name.endswith("_datetime"):
            out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
        elif name in {"value_as_number", "range_low", "range_high"}:
            out[name] = out[name].astype("Float64")
        else:
            out[name] = out[name].astype("string")
    return out


def _person(cdm: Cdm, k: int, p: dict[str, str], shift: int) -> None:
    birth = _d(p["birth_date"], shift)
    diagnosis = _d(p["diagnosis_date"], shift)
    last = _d(p["last_contact_date"], shift)
    assert birth and diagnosis and last
    cdm.add(
        "person",
        person_id=k,
        gender_concept_id=SEX[p["sex"]],
        year_of_birth=birth.year,
        month_of_birth=birth.month,
        day_of_birth=birth.day,
        birth_datetime=dt.datetime.combine(birth, dt.time()),
        race_concept_id=0,
        ethnicity_concept_id=0,
        person_source_value=p["patient_id"],
    )
    cdm.add(
        "observation_period",
        person_id=k,
        observation_period_start_date=diagnosis - dt.timedelta(days=30),
        observation_period_end_date=last + dt.timedelta(days=60),  # EHR padding (§6.11)
        period_type_concept_id=EHR,
    )
    for day in (diagnosis, last):
        cdm.add(
            "visit_occurrence",
            person_id=k,
            visit_concept_id=9202,
            visit_start_date=day,
            visit_end_date=day,
            visit_type_concept_id=EHR,
        )
    if p["death_date"]:
        cdm.add(
            "death",
            person_id=k,
            death_date=_d(p["death_date"], shift),
            death_datetime=None,
            death_type_concept_id=EHR,
        )
    condition = cdm.add(
        "condition_occurrence",
        person_id=k,
        condition_concept_id=HISTOLOGY[p["histology"]],
        condition_start_date=diagnosis,
        condition_type_concept_id=EHR,
        condition_source_value=p["histology"],
    )
    _measure(cdm, k, diagnosis, STAGE_IDS.get(p["stage"]), event=condition)
    for site in filter(None, p["metastases"].split(";")):
        _measure(cdm, k, diagnosis, METASTASIS[site], event=condition)
    if p["driver"] in {"EGFR", "none"}:
        value = POSITIVE if p["driver"] == "EGFR" else NEGATIVE
        _measure(cdm, k, diagnosis, EGFR, value_as_concept_id=value)
    if p["pdl1_tps"]:
        _measure(cdm, k, diagnosis, PDL1, value_as_number=float(p["pdl1_tps"]), unit=8554)
    if p["smoking"]:
        cdm.add(
            "observation",
            person_id=k,
            observation_concept_id=43054909,
            observation_date=diagnosis,
            value_as_concept_id=SMOKING[p["smoking"]],
            observation_type_concept_id=EHR,
        )
    first = cdm.add(
        "episode",
        person_id=k,
        episode_concept_id=32528,
        episode_start_date=diagnosis,
        episode_parent_id=None,
        episode_object_concept_id=HISTOLOGY[p["histology"]],
        episode_type_concept_id=32546,
    )
    if p["recurrent"] == "yes":
        cdm.add(
            "episode",
            person_id=k,
            episode_concept_id=32529,
            episode_start_date=diagnosis,
            episode_parent_id=first,
            episode_object_concept_id=HISTOLOGY[p["histology"]],
            episode_type_concept_id=32546,
        )
    cdm.tables["_first"] = [*cdm.tables.get("_first", []), {"person_id": k, "id": first}]


def _measure(
    cdm: Cdm,
    k: int,
    day: dt.date,
    concept: int | None,
    *,
    event: int | None = None,
    value_as_number: float | None = None,
    value_as_concept_id: int | None = None,
    unit: int | None = None,
    low: float | None = None,
    high: float | None = None,
) -> None:
    if concept is None:
        return
    cdm.add(
        "measurement",
        person_id=k,
        measurement_concept_id=concept,
        measurement_date=day,
        measurement_type_concept_id=EHR,
        operator_concept_id=None,
        value_as_number=value_as_number,
        value_as_concept_id=value_as_concept_id,
        unit_concept_id=unit,
        range_low=low,
        range_high=high,
        unit_source_value=None,
        measurement_event_id=event,
        meas_event_field_concept_id=1147127 if event else None,
    )


def _treatments(cdm: Cdm, k: int, lines: list[dict[str, str]], shift: int) -> None:
    first_episode = cdm.tables["_first"][-1]["id"]
    for t in lines:
        start = _d(t["start_date"], shift)
        last = _d(t["last_dose_date"], shift) or start
        assert start and last
        doses = [start + dt.timedelta(days=21 * i) for i in range((last - start).days // 21 + 1)]
        doses = sorted({*doses, last})
        for day in doses:
            for inn in t["agents"].split(";"):
                concept, source = _drug(inn, day == doses[0])
                cdm.add(
                    "drug_exposure",
                    person_id=k,
                    drug_concept_id=concept,
                    drug_exposure_start_date=day,
                    drug_exposure_end_date=day,
                    drug_type_concept_id=32818,
                    stop_reason=t["end_reason"] or None if day == doses[-1] else None,
                    days_supply=None,
                    drug_source_value=source,
                )
        if t["ecog"]:
            _measure(cdm, k, start - dt.timedelta(days=3), ECOG, value_as_number=float(t["ecog"]))
        progression = _d(t["progression_date"], shift)
        if t["best_response"]:
            end = progression or last
            cdm.add(
                "observation",
                person_id=k,
                observation_concept_id=DISEASE_STATUS_OBS,
                observation_date=start + (end - start) / 2,
                value_as_concept_id=RESPONSE[t["best_response"]],
                observation_type_concept_id=EHR,
            )
        if progression:
            cdm.add(
                "episode",
                person_id=k,
                episode_concept_id=32677,
                episode_start_date=progression,
                episode_parent_id=first_episode,
                episode_object_concept_id=0,
                episode_type_concept_id=32546,
            )


def _drug(inn: str, first: bool) -> tuple[int, str]:
    """Drug concept of one administration: ingredient, a clinical drug, or 0 (source value)."""
    if inn in CLINICAL and not first:
        return CLINICAL[inn][0], inn
    if inn in INGREDIENT:
        return INGREDIENT[inn][0], inn
    return 0, inn  # no verified concept: mapped from drug_source_value, flagged


def _lab(cdm: Cdm, k: int, lab: dict[str, str], shift: int) -> None:
    day = _d(lab["date"], shift)
    assert day
    _measure(
        cdm,
        k,
        day,
        LAB[lab["test"]],
        value_as_number=float(lab["value"]),
        unit=UNIT[lab["unit"]],
        low=float(lab["lln"]) if lab["lln"] else None,
        high=float(lab["uln"]) if lab["uln"] else None,
    )


def _concept(
    cid: int,
    name: str,
    domain: str,
    vocabulary: str,
    klass: str,
    code: str,
    standard: str | None = "S",
) -> dict[str, object]:
    return {
        "concept_id": cid,
        "concept_name": name,
        "domain_id": domain,
        "vocabulary_id": vocabulary,
        "concept_class_id": klass,
        "standard_concept": standard,
        "concept_code": code,
        "valid_start_date": dt.date(1970, 1, 1),
        "valid_end_date": dt.date(2099, 12, 31),
        "invalid_reason": None,
    }


def _vocabulary() -> dict[str, pd.DataFrame]:
    """The concept, concept_ancestor and concept_relationship rows the cohort uses."""
    concepts = [
        _concept(inn_id, inn, "Drug", vocab, "Ingredient", code)
        for inn, (inn_id, vocab, code) in INGREDIENT.items()
    ]
    ancestors = [(c, c, 0) for c, _, _ in INGREDIENT.values()]
    relationships = []
    for inn, (cid, code) in CLINICAL.items():
        concepts.append(_concept(cid, f"{inn} injection", "Drug", "RxNorm", "Clinical Drug", code))
        ancestors += [(INGREDIENT[inn][0], cid, 1), (cid, cid, 0)]
        relationships.append((cid, INGREDIENT[inn][0], "RxNorm has ing"))
    concepts += [
        _concept(
            4115276,
            "Non-small cell lung cancer",
            "Condition",
            "SNOMED",
            "Clinical Finding",
            "254637007",
        ),
        _concept(
            4112738,
            "Adenocarcinoma of lung",
            "Condition",
            "SNOMED",
            "Clinical Finding",
            "254626006",
        ),
        _concept(
            4110705,
            "Squamous cell carcinoma of lung",
            "Condition",
            "SNOMED",
            "Clinical Finding",
            "254634000",
        ),
        _concept(
            4110589,
            "Large cell carcinoma of lung",
            "Condition",
            "SNOMED",
            "Clinical Finding",
            "254629004",
        ),
        _concept(
            ADENOSQUAMOUS,
            "Adenosquamous carcinoma of lung",
            "Condition",
            "ICDO3",
            "ICDO Condition",
            "8560/3-C34.9",
        ),
        _concept(
            ECOG,
            "ECOG Performance Status score",
            "Measurement",
            "LOINC",
            "Clinical Observation",
            "89247-1",
        ),
        _concept(
            PDL1, "PD-L1 tumour proportion score", "Measurement", "rechallenge", "Local", "PDL1-TPS"
        ),
        _concept(
            DISEASE_STATUS_OBS,
            "Cancer disease status",
            "Observation",
            "rechallenge",
            "Local",
            "DISEASE-STATUS",
        ),
    ]
    ancestors += [(4115276, c, 1) for c in (4112738, 4110705, 4110589)] + [(4115276, 4115276, 0)]
    for stage, cid in STAGE_IDS.items():
        code = {"IIIA": "3A", "IIIB": "3B", "IIIC": "3C", "IVA": "4A", "IVB": "4B"}[stage]
        concepts.append(
            _concept(
                cid,
                f"AJCC/UICC 8th Stage {code}",
                "Measurement",
                "Cancer Modifier",
                "Staging/Grading",
                f"c-8th_AJCC/UICC-Stage-{code}",
            )
        )
    ancestor = pd.DataFrame(
        ancestors,
        columns=["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation"],
    )
    ancestor["max_levels_of_separation"] = ancestor["min_levels_of_separation"]
    relationship = pd.DataFrame(
        relationships, columns=["concept_id_1", "concept_id_2", "relationship_id"]
    )
    return {
        "concept": pd.DataFrame(concepts),
        "concept_ancestor": ancestor,
        "concept_relationship": relationship,
    }


def write(frames: dict[str, pd.DataFrame], out: Path) -> None:
    """`out/omop.duckdb` (schema `cdm`) and `out/parquet/<table>.parquet`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "parquet").mkdir(exist_ok=True)
    target = out / "omop.duckdb"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute("CREATE SCHEMA cdm")
    for name, frame in frames.items():
        if name.startswith("_"):
            continue
        con.register("frame", frame)
        con.execute(f"CREATE TABLE cdm.{name} AS SELECT * FROM frame")
        con.unregister("frame")
        frame.to_parquet(out / "parquet" / f"{name}.parquet", index=False)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--persons", type=int, default=24)
    args = parser.parse_args()
    write(build(args.persons), args.out)


if __name__ == "__main__":
    main()
