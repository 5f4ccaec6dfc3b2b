"""`rechallenge convert DATA --to omop OUT`: a validated study as OMOP CDM v5.4 tables.

The tables follow the reference mapping (shared reference omop-cdm.md) and, for what OMOP has
no home for, the project convention (`convention`, docs/omop.md); a `metadata` row declares
it, so the reader reads the instance back into the same study. OUT ending in `.duckdb` is a
DuckDB file (schema `cdm`); anything else a folder of `<table>.parquet` files. The output is
written next to OUT under a temporary name and renamed into place, so a failed conversion
leaves nothing half-written; an existing OUT is replaced only when asked (`force`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rechallenge.data.model import Study
from rechallenge.errors import DataValidationError, Problem
from rechallenge.sources.omop import convention as V

TEXT_IDS = {"domain_id", "vocabulary_id", "concept_class_id", "relationship_id"}
INTEGERS = {
    "year_of_birth",
    "month_of_birth",
    "day_of_birth",
    "days_supply",
    "episode_number",
    "min_levels_of_separation",
    "max_levels_of_separation",
}
NUMBERS = {"value_as_number", "range_low", "range_high"}


class Tables:
    """CDM rows table by table, with running ids (`<table>_id`)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, object]]] = {}

    def add(self, table: str, **row: object) -> int:
        """Append one row; its new id (person and death rows carry person_id instead)."""
        rows = self.rows.setdefault(table, [])
        if table not in {"person", "death", "episode_event", "cdm_source", "metadata"}:
            row = {f"{table}_id": len(rows) + 1, **row}
        rows.append(row)
        return len(rows)


def _date(value: object) -> dt.date | None:
    """A study date (Timestamp or NaT) as `datetime.date`, None when blank."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def _text(value: object) -> str:
    """A study cell as text, '' when blank (booleans as yes/no)."""
    if value is None or (not isinstance(value, (tuple, list)) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def build_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Every CDM table of `study` (person_id 1, 2, … in the study's patient order)."""
    out = Tables()
    person_of = {str(pid): k for k, pid in enumerate(study.patients["patient_id"], start=1)}
    first_dates = _first_dates(study)
    for k, p in enumerate(study.patients.itertuples(index=False), start=1):
        _person(out, k, p, first_dates.get(str(p.patient_id)))
    _lines(out, study.treatments, person_of)
    if "lesions" in study.supplied:
        for r in study.lesions.itertuples(index=False):
            _lesion(out, person_of[str(r.patient_id)], r)
    if "adverse_events" in study.supplied:
        for r in study.adverse_events.itertuples(index=False):
            _adverse_event(out, person_of[str(r.patient_id)], r)
    if "labs" in study.supplied:
        for r in study.labs.itertuples(index=False):
            _lab(out, person_of[str(r.patient_id)], r)
    out.add(
        "cdm_source",
        cdm_source_name="rechallenge conversion of a study in the rechallenge layout",
        cdm_source_abbreviation="rechallenge",
        cdm_holder="",
        source_description="converted by rechallenge convert",
        cdm_version="v5.4",
        vocabulary_version="rechallenge subset of the reference concept ids",
    )
    out.add(
        "metadata",
        metadata_id=1,
        metadata_concept_id=0,
        metadata_type_concept_id=0,
        name=V.NAME,
        value_as_string=V.VERSION,
    )
    frames = {name: _typed(pd.DataFrame(rows)) for name, rows in out.rows.items()}
    frames |= {name: _typed(frame) for name, frame in vocabulary(frames).items()}
    return frames


def _first_dates(study: Study) -> dict[str, dt.date]:
    """Per patient: the earliest date of the study (stands in for a blank diagnosis date)."""
    dates: dict[str, dt.date] = {}
    columns = {
        "patients": ["diagnosis_date", "last_contact_date"],
        "treatments": ["start_date"],
    }
    for table, names in columns.items():
        frame = getattr(study, table)
        for name in names:
            for pid, value in zip(frame["patient_id"], frame[name], strict=True):
                day = _date(value)
                if day is not None and (str(pid) not in dates or day < dates[str(pid)]):
                    dates[str(pid)] = day
    return dates


def _person(out: Tables, k: int, p: Any, first: dt.date | None) -> None:
    birth = _date(p.birth_date)
    diagnosis = _date(p.diagnosis_date)
    last = _date(p.last_contact_date)
    assert birth is not None and last is not None  # required, non-null in a valid study
    onset = diagnosis or first or last
    out.add(
        "person",
        person_id=k,
        gender_concept_id=V.SEX.get(_text(p.sex), 0),
        year_of_birth=birth.year,
        month_of_birth=birth.month,
        day_of_birth=birth.day,
        birth_datetime=dt.datetime.combine(birth, dt.time()),
        race_concept_id=0,
        ethnicity_concept_id=0,
        person_source_value=str(p.patient_id),
    )
    out.add(
        "observation_period",
        person_id=k,
        observation_period_start_date=min(onset, birth),
        observation_period_end_date=last,
        period_type_concept_id=V.EHR,
    )
    out.add(
        "visit_occurrence",
        person_id=k,
        visit_concept_id=9202,
        visit_start_date=last,
        visit_end_date=last,
        visit_type_concept_id=V.EHR,
        visit_source_value=V.LAST_CONTACT,
    )
    if _date(p.death_date):
        out.add(
            "death",
            person_id=k,
            death_date=_date(p.death_date),
            death_datetime=None,
            death_type_concept_id=V.EHR,
        )
    histology = _text(p.histology)
    condition = out.add(
        "condition_occurrence",
        person_id=k,
        condition_concept_id=V.HISTOLOGY[histology],
        condition_start_date=onset,
        condition_type_concept_id=V.EHR,
        condition_source_value=histology,
        condition_status_source_value=None if diagnosis else V.NO_DIAGNOSIS_DATE,
    )
    if _text(p.stage):
        _measure(out, k, onset, V.STAGE_IDS[_text(p.stage)], event=condition)
    for site in p.metastases or ():
        _measure(out, k, onset, V.METASTASIS[site], event=condition)
    _driver(out, k, onset, _text(p.driver))
    if _float(p.pdl1_tps) is not None:
        _measure(out, k, onset, V.PDL1, value=_float(p.pdl1_tps), unit=8554)
    _optional_measures(out, k, p, onset)
    if _text(p.smoking):
        out.add(
            "observation",
            person_id=k,
            observation_concept_id=43054909,
            observation_date=min(onset, first or onset),
            value_as_concept_id=V.SMOKING[_text(p.smoking)],
            observation_type_concept_id=V.EHR,
        )
    recurrent = _text(p.recurrent)
    if recurrent:
        parent = _episode(out, k, 32528, onset, object_id=V.HISTOLOGY[histology])
        if recurrent == "yes":
            _episode(out, k, 32529, onset, parent=parent, object_id=V.HISTOLOGY[histology])


def _optional_measures(out: Tables, k: int, p: Any, onset: dt.date) -> None:
    """PD-L1 re-test, height and weight, when the study has them."""
    retest = _float(getattr(p, "pdl1_retest_tps", None))
    retest_date = _date(getattr(p, "pdl1_retest_date", None))
    if retest is not None or retest_date is not None:
        if retest is None or retest_date is None:
            raise _unconvertible(
                "patients", "a PD-L1 re-test needs both pdl1_retest_tps and pdl1_retest_date"
            )
        _measure(out, k, retest_date, V.PDL1_RETEST, value=retest, unit=8554)
    for column, concept, unit in (
        ("height_cm", V.HEIGHT, V.CENTIMETRE),
        ("weight_kg", V.WEIGHT, V.KILOGRAM),
    ):
        value = _float(getattr(p, column, None))
        if value is not None:
            _measure(out, k, onset, concept, value=value, unit=unit)


def _unconvertible(table: str, message: str) -> DataValidationError:
    return DataValidationError(
        [Problem("CONVERT-001", table, message, "complete or remove the value, then convert")]
    )


def _driver(out: Tables, k: int, day: dt.date, driver: str) -> None:
    """A positive gene test, a negative EGFR test (`none`), or an EGFR test valued 0."""
    if not driver:
        return
    if driver == "none":
        _measure(out, k, day, V.DRIVER["EGFR"], value_concept=V.NEGATIVE)
    elif driver == "unknown":
        _measure(out, k, day, V.DRIVER["EGFR"], value_concept=V.UNKNOWN_RESULT)
    else:
        _measure(out, k, day, V.DRIVER[driver], value_concept=V.POSITIVE)


def _measure(
    out: Tables,
    k: int,
    day: dt.date,
    concept: int,
    *,
    event: int | None = None,
    field: int = V.CONDITION_FIELD,
    value: float | None = None,
    value_concept: int | None = None,
    unit: int | None = None,
    low: float | None = None,
    high: float | None = None,
    source: str | None = None,
    unit_source: str | None = None,
    value_source: str | None = None,
) -> int:
    return out.add(
        "measurement",
        person_id=k,
        measurement_concept_id=concept,
        measurement_date=day,
        measurement_type_concept_id=V.EHR,
        operator_concept_id=None,
        value_as_number=value,
        value_as_concept_id=value_concept,
        unit_concept_id=unit,
        range_low=low,
        range_high=high,
        measurement_source_value=source,
        unit_source_value=unit_source,
        value_source_value=value_source,
        measurement_event_id=event,
        meas_event_field_concept_id=field if event else None,
    )


def _episode(
    out: Tables,
    k: int,
    concept: int,
    start: dt.date,
    *,
    parent: int | None = None,
    number: int | None = None,
    end: dt.date | None = None,
    object_id: int = 0,
    source: str | None = None,
) -> int:
    return out.add(
        "episode",
        person_id=k,
        episode_concept_id=concept,
        episode_start_date=start,
        episode_end_date=end,
        episode_parent_id=parent,
        episode_number=number,
        episode_object_concept_id=object_id,
        episode_type_concept_id=V.EHR,
        episode_source_value=source,
    )


def _lines(out: Tables, treatments: pd.DataFrame, person_of: dict[str, int]) -> None:
    """Per line: a Treatment Regimen episode, its administrations, ECOG, response, progression."""
    first_occurrence = {
        int(str(r["person_id"])): int(str(r["episode_id"]))
        for r in out.rows.get("episode", [])
        if r["episode_concept_id"] == 32528
    }
    for t in treatments.itertuples(index=False):
        k = person_of[str(t.patient_id)]
        start = _date(t.start_date)
        last = _date(t.last_dose_date)
        assert start is not None
        line = int(t.line)
        episode = _episode(
            out,
            k,
            V.TREATMENT_REGIMEN,
            start,
            number=line,
            end=last,
            source=_text(t.regimen) or None,
        )
        doses = _doses(start, last)
        for day in doses:
            for agent in t.agents:
                exposure = out.add(
                    "drug_exposure",
                    person_id=k,
                    drug_concept_id=V.INGREDIENT.get(agent, (0, "", ""))[0],
                    drug_exposure_start_date=day,
                    drug_exposure_end_date=day,
                    drug_type_concept_id=V.DRUG_TYPE,
                    stop_reason=(_text(t.end_reason) or None) if day == doses[-1] else None,
                    days_supply=None,
                    drug_source_value=agent,
                )
                out.add(
                    "episode_event",
                    episode_id=episode,
                    event_id=exposure,
                    episode_event_field_concept_id=V.DRUG_EXPOSURE_FIELD,
                )
        if pd.notna(t.ecog):
            _measure(
                out, k, start, V.ECOG, value=float(t.ecog), event=episode, field=V.EPISODE_FIELD
            )
        if _text(t.best_response):
            out.add(
                "observation",
                person_id=k,
                observation_concept_id=V.DISEASE_STATUS_OBS,
                observation_date=start,
                value_as_concept_id=V.RESPONSE[_text(t.best_response)],
                observation_type_concept_id=V.EHR,
                observation_event_id=episode,
                obs_event_field_concept_id=V.EPISODE_FIELD,
            )
        progression = _date(t.progression_date)
        if progression is not None:
            _episode(
                out,
                k,
                32677,
                progression,
                parent=first_occurrence.get(k),
                number=line,
            )


def _doses(start: dt.date, last: dt.date | None) -> list[dt.date]:
    """Administrations of a line: every 21 days from its start, and its last dose."""
    if last is None or last <= start:
        return [start]
    days = [start + dt.timedelta(days=21 * i) for i in range((last - start).days // 21 + 1)]
    return sorted({*days, last})


def _lesion(out: Tables, k: int, r: Any) -> None:
    parts = [_text(r.role), _text(r.lymph_node), _text(r.status), _text(r.organ)]
    day = _date(r.assessment_date)
    assert day is not None
    _measure(
        out,
        k,
        day,
        V.TUMOR_SIZE,
        value=_float(r.size_mm),
        unit=V.MILLIMETRE,
        source=str(r.lesion_id),
        unit_source="mm",
        value_source="|".join(parts),
    )


def _adverse_event(out: Tables, k: int, r: Any) -> None:
    out.add(
        "condition_occurrence",
        person_id=k,
        condition_concept_id=0,
        condition_start_date=_date(r.onset_date),
        condition_type_concept_id=V.CRF,
        condition_source_value=str(r.term),
        condition_status_source_value=f"{int(r.grade)}|{_text(r.immune_related)}",
    )


def _lab(out: Tables, k: int, r: Any) -> None:
    day = _date(r.date)
    assert day is not None
    unit = str(r.unit)
    _measure(
        out,
        k,
        day,
        V.LAB[str(r.test)],
        value=_float(r.value),
        unit=V.UNIT.get(unit.lower().replace(" ", ""), 0),
        low=_float(r.lln),
        high=_float(r.uln),
        unit_source=unit,
    )


def _concept(
    cid: int, name: str, domain: str, vocabulary: str, klass: str, code: str
) -> dict[str, object]:
    return {
        "concept_id": cid,
        "concept_name": name,
        "domain_id": domain,
        "vocabulary_id": vocabulary,
        "concept_class_id": klass,
        "standard_concept": "S",
        "concept_code": code,
        "valid_start_date": dt.date(1970, 1, 1),
        "valid_end_date": dt.date(2099, 12, 31),
        "invalid_reason": None,
    }


def _catalogue() -> list[dict[str, object]]:
    """Every concept the converter may write, with its vocabulary and code."""
    rows = [
        _concept(cid, inn, "Drug", vocab, "Ingredient", code)
        for inn, (cid, vocab, code) in V.INGREDIENT.items()
    ]
    snomed = [
        (4115276, "Non-small cell lung cancer", "254637007"),
        (4112738, "Adenocarcinoma of lung", "254626006"),
        (4110705, "Squamous cell carcinoma of lung", "254634000"),
        (4110589, "Large cell carcinoma of lung", "254629004"),
    ]
    rows += [
        _concept(c, n, "Condition", "SNOMED", "Clinical Finding", code) for c, n, code in snomed
    ]
    R = "rechallenge"  # the vocabulary of site-local concepts
    local = [
        (V.ADENOSQUAMOUS, "Adenosquamous carcinoma of lung", "Condition", "ICDO3", "8560/3-C34.9"),
        (V.OTHER_HISTOLOGY, "Lung carcinoma, other histology", "Condition", R, "NSCLC-OTHER"),
        (V.ECOG, "ECOG Performance Status score", "Measurement", "LOINC", "89247-1"),
        (V.PDL1, "PD-L1 tumour proportion score", "Measurement", R, "PDL1-TPS"),
        (V.PDL1_RETEST, "PD-L1 TPS of a re-biopsy", "Measurement", R, "PDL1-RETEST"),
        (V.HEIGHT, "Body height", "Measurement", "LOINC", "8302-2"),
        (V.WEIGHT, "Body weight", "Measurement", "LOINC", "29463-7"),
        (V.DISEASE_STATUS_OBS, "Cancer disease status", "Observation", R, "DISEASE-STATUS"),
        (V.NOT_EVALUABLE, "Not evaluable", "Meas Value", R, "NE"),
        (V.EPISODE_FIELD, "episode.episode_id", "Metadata", R, "EPISODE-ID"),
    ]  # fmt: skip
    rows += [_concept(c, n, d, v, "Local", code) for c, n, d, v, code in local]
    codes = {"IIIA": "3A", "IIIB": "3B", "IIIC": "3C", "IVA": "4A", "IVB": "4B"}
    rows += [
        _concept(
            cid,
            f"AJCC/UICC 8th Stage {codes[stage]}",
            "Measurement",
            "Cancer Modifier",
            "Staging/Grading",
            f"c-8th_AJCC/UICC-Stage-{codes[stage]}",
        )
        for stage, cid in V.STAGE_IDS.items()
    ]
    return rows


def vocabulary(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """`concept` and `concept_ancestor` rows of exactly the local concepts the tables use.

    Standard concepts the reference verifies (types, units, answers, genes, sites) are used by
    id without a concept row, except ingredients and histologies, which the reader resolves
    through `concept` and `concept_ancestor`.
    """
    used: set[int] = set()
    for frame in frames.values():
        for name in frame.columns:
            if name.endswith("concept_id") and name != "metadata_concept_id":
                used |= {int(v) for v in frame[name].dropna()}
    lung = {4112738, 4110705, 4110589, V.ADENOSQUAMOUS, V.OTHER_HISTOLOGY}
    if used & lung:
        used.add(V.HISTOLOGY["nos"])  # the NSCLC root, ancestor of every histology
    concepts = [c for c in _catalogue() if c["concept_id"] in used]
    ids = sorted(int(str(c["concept_id"])) for c in concepts)
    ancestors = [(c, c, 0) for c in ids]
    ancestors += [(V.HISTOLOGY["nos"], c, 1) for c in ids if c in lung]
    ancestor = pd.DataFrame(
        ancestors,
        columns=["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation"],
    )
    ancestor["max_levels_of_separation"] = ancestor["min_levels_of_separation"]
    return {"concept": pd.DataFrame(concepts), "concept_ancestor": ancestor}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Explicit column types, so all-blank columns keep their CDM type in DuckDB and Parquet."""
    out = frame.copy()
    for name in out.columns:
        if name in TEXT_IDS:
            out[name] = out[name].astype("string")
        elif name.endswith("_id") or name in INTEGERS:
            out[name] = out[name].astype("Int64")
        elif name.endswith("_date"):
            out[name] = out[name].astype(object).where(out[name].notna(), None)
        elif name.endswith("_datetime"):
            out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
        elif name in NUMBERS:
            out[name] = out[name].astype("Float64")
        else:
            out[name] = out[name].astype("string")
    return out


def write_tables(frames: dict[str, pd.DataFrame], target: Path) -> None:
    """`target` as a DuckDB file (schema `cdm`) when it ends in .duckdb, else a Parquet folder."""
    if target.suffix.lower() == ".duckdb":
        import duckdb

        con = duckdb.connect(str(target))
        try:
            con.execute("CREATE SCHEMA cdm")
            for name, frame in frames.items():
                con.register("frame", frame)
                con.execute(f'CREATE TABLE cdm."{name}" AS SELECT * FROM frame')
                con.unregister("frame")
        finally:
            con.close()
        return
    target.mkdir()
    for name, frame in frames.items():
        frame.to_parquet(target / f"{name}.parquet", index=False)


def convert_to_omop(
    study: Study,
    out: Path,
    *,
    force: bool = False,
) -> dict[str, int]:
    """Write `study` as OMOP CDM v5.4 at `out`, atomically; the row count of each table.

    Raises FileExistsError when `out` exists and `force` is off; DataValidationError when the
    study holds something the convention cannot carry (nothing is written then).
    """
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(str(out))
    frames = build_tables(study)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staged = scratch / out.name
        write_tables(frames, staged)
        if out.exists():
            aside = scratch / "replaced"
            os.replace(out, aside)
        os.replace(staged, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {name: len(frame) for name, frame in frames.items()}
