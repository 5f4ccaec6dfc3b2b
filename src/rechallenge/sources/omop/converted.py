"""Reading an instance written by the project convention (`convention`, docs/omop.md).

Used only where the instance declares the convention (its `metadata` row) or
`omop.convention` switches it on. Every person of such an instance is a study patient (the
converter writes no one else), so screening is the person table itself; each fact is read
from the field the convention gives it, and comes back exactly as it was converted: the
patient ids (`person_source_value`), the lines (Treatment Regimen episodes), lesions, adverse
events and labs with their units as written. Each table is one Ibis expression run in the
engine; only the instance's rows of the needed concepts come back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd

from rechallenge.sources.omop import convention as V
from rechallenge.sources.omop.connect import Cdm

PATIENT_COLUMNS = [
    "patient_id",
    "sex",
    "birth_date",
    "smoking",
    "histology",
    "stage",
    "recurrent",
    "diagnosis_date",
    "driver",
    "pdl1_tps",
    "pdl1_retest_tps",
    "pdl1_retest_date",
    "height_cm",
    "weight_kg",
    "metastases",
    "last_contact_date",
    "death_date",
]
TREATMENT_COLUMNS = [
    "patient_id",
    "line",
    "regimen",
    "agents",
    "start_date",
    "last_dose_date",
    "end_reason",
    "ecog",
    "best_response",
    "progression_date",
]
#: Tables a converted instance always holds (`death` only when someone died).
TABLES = frozenset(
    {
        "person",
        "condition_occurrence",
        "measurement",
        "observation",
        "episode",
        "episode_event",
        "drug_exposure",
        "visit_occurrence",
    }
)
SEX = {v: k for k, v in V.SEX.items()}
SMOKING = {v: k for k, v in V.SMOKING.items()}
STAGE = {v: k for k, v in V.STAGE_IDS.items()}
METASTASIS = {v: k for k, v in V.METASTASIS.items()}
RESPONSE = {v: k for k, v in V.RESPONSE.items()}
GENE = {v: k for k, v in V.DRIVER.items()}
LAB = {v: k for k, v in V.LAB.items()}


def declared(cdm: Cdm) -> str | None:
    """The convention version the instance declares in `metadata`, or None."""
    if not cdm.has("metadata"):
        return None
    m = cdm.table("metadata")
    rows = m.filter(m.name == V.NAME).select(value=m.value_as_string.cast("string")).to_pandas()
    return str(rows["value"].iloc[0]) if len(rows) else None


def _pull(expr: Any, dates: tuple[str, ...] = ("date",)) -> pd.DataFrame:
    """Run one expression; the named date columns as `datetime.date` (None when blank)."""
    frame: pd.DataFrame = expr.to_pandas()
    for name in dates:
        values = pd.to_datetime(frame[name])
        frame[name] = [v.date() if pd.notna(v) else None for v in values]
    return frame


def number(value: object) -> str:
    """A number as text that parses back to the same float ('' when blank)."""
    if value is None or pd.isna(value):
        return ""
    v = float(value)  # type: ignore[arg-type]
    return str(int(v)) if v.is_integer() else repr(v)


def _day(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else ""


def read_converted(cdm: Cdm) -> dict[str, pd.DataFrame]:
    """Our tables (text cells) of a converted instance, rows in the converted order."""
    person = _pull(
        cdm.table("person").select(
            "person_id",
            pid=ibis._.person_source_value.cast("string"),
            sex=ibis._.gender_concept_id.cast("int64"),
            date=ibis._.birth_datetime.cast("date"),
        )
    ).sort_values("person_id")
    pid = dict(zip(person["person_id"].astype(int), person["pid"], strict=True))
    meas = _measurements(cdm)
    tables = {
        "patients": _patients(cdm, person, meas),
        "treatments": _treatments(cdm, meas, pid),
    }
    m = meas.sort_values("id")
    lesions = m[m["concept"] == V.TUMOR_SIZE]
    if not lesions.empty:
        tables["lesions"] = _lesions(lesions, pid)
    events = _adverse_events(cdm, pid)
    if not events.empty:
        tables["adverse_events"] = events
    labs = m[m["concept"].isin(list(LAB))]
    if not labs.empty:
        tables["labs"] = pd.DataFrame(
            {
                "patient_id": labs["person_id"].map(pid),
                "date": labs["date"].map(_day),
                "test": labs["concept"].map(LAB),
                "value": labs["value"].map(number),
                "unit": labs["unit_source"].fillna(""),
                "lln": labs["low"].map(number),
                "uln": labs["high"].map(number),
            }
        )
    return {name: frame.reset_index(drop=True) for name, frame in tables.items()}


def _measurements(cdm: Cdm) -> pd.DataFrame:
    """The measurement rows of every concept the convention writes."""
    m = cdm.table("measurement")
    wanted = [
        *V.STAGE_IDS.values(),
        *V.METASTASIS.values(),
        *V.DRIVER.values(),
        V.PDL1,
        V.PDL1_RETEST,
        V.HEIGHT,
        V.WEIGHT,
        V.ECOG,
        V.TUMOR_SIZE,
        *V.LAB.values(),
    ]
    return _pull(
        m.filter(m.measurement_concept_id.isin(wanted)).select(
            id=m.measurement_id.cast("int64"),
            person_id=m.person_id.cast("int64"),
            concept=m.measurement_concept_id.cast("int64"),
            date=m.measurement_date.cast("date"),
            value=m.value_as_number.cast("float64"),
            value_concept=m.value_as_concept_id.cast("int64"),
            low=m.range_low.cast("float64"),
            high=m.range_high.cast("float64"),
            source=m.measurement_source_value.cast("string"),
            unit_source=m.unit_source_value.cast("string"),
            value_source=m.value_source_value.cast("string"),
            event=m.measurement_event_id.cast("int64"),
            field=m.meas_event_field_concept_id.cast("int64"),
        )
    )


def _first(frame: pd.DataFrame, column: str) -> dict[int, Any]:
    """Per person: `column` of the first row in measurement order."""
    ordered = frame.sort_values("id")
    return {int(k): v for k, v in ordered.groupby("person_id")[column].first().items()}


def _patients(cdm: Cdm, person: pd.DataFrame, meas: pd.DataFrame) -> pd.DataFrame:
    c = cdm.table("condition_occurrence")
    conditions = _pull(
        c.filter(
            c.condition_concept_id.isin(list(V.HISTOLOGY.values())),
            c.condition_type_concept_id != V.CRF,
        ).select(
            id=c.condition_occurrence_id.cast("int64"),
            person_id=c.person_id.cast("int64"),
            date=c.condition_start_date.cast("date"),
            histology=c.condition_source_value.cast("string"),
            status=c.condition_status_source_value.cast("string"),
        )
    ).sort_values("id")
    diagnosis = conditions.groupby("person_id").first()
    o = cdm.table("observation")
    smoking = _pull(
        o.filter(o.observation_concept_id == 43054909).select(
            person_id=o.person_id.cast("int64"), answer=o.value_as_concept_id.cast("int64")
        ),
        dates=(),
    )
    answers = dict(zip(smoking["person_id"], smoking["answer"], strict=True))
    e = cdm.table("episode")
    kinds = _pull(
        e.filter(e.episode_concept_id.isin([32528, 32529])).select(
            person_id=e.person_id.cast("int64"), kind=e.episode_concept_id.cast("int64")
        ),
        dates=(),
    )
    kind = kinds.groupby("person_id")["kind"].agg(set).to_dict()
    v = cdm.table("visit_occurrence")
    last = _pull(
        v.filter(v.visit_source_value == V.LAST_CONTACT).select(
            person_id=v.person_id.cast("int64"), date=v.visit_start_date.cast("date")
        )
    )
    last_contact = dict(zip(last["person_id"], last["date"], strict=True))
    deaths: dict[int, dt.date] = {}
    if cdm.has("death"):
        d = cdm.table("death")
        death = _pull(d.select(person_id=d.person_id.cast("int64"), date=d.death_date.cast("date")))
        deaths = dict(zip(death["person_id"], death["date"], strict=True))
    by = {name: meas[meas["concept"] == cid] for name, cid in _SINGLE.items()}
    values = {name: _first(frame, "value") for name, frame in by.items()}
    retest_date = _first(by["pdl1_retest_tps"], "date")
    stage = meas[meas["concept"].isin(list(STAGE))]
    stages = {k: STAGE[int(v)] for k, v in _first(stage, "concept").items()}
    sites = meas[meas["concept"].isin(list(METASTASIS))].sort_values("id")
    metastases = sites.groupby("person_id")["concept"].agg(
        lambda s: ";".join(METASTASIS[int(x)] for x in s)
    )
    genes = meas[meas["concept"].isin(list(GENE))]
    drivers = {k: _driver(g) for k, g in genes.sort_values("id").groupby("person_id")}
    rows = []
    for p in person.itertuples(index=False):
        k = int(p.person_id)
        dx = diagnosis.loc[k] if k in diagnosis.index else None
        kinds_k = kind.get(k, set())
        rows.append(
            {
                "patient_id": p.pid,
                "sex": SEX.get(int(p.sex), ""),
                "birth_date": _day(p.date),
                "smoking": SMOKING.get(answers.get(k, -1), ""),
                "histology": "" if dx is None else str(dx["histology"]),
                "stage": stages.get(k, ""),
                "recurrent": "yes" if 32529 in kinds_k else ("no" if kinds_k else ""),
                "diagnosis_date": ""
                if dx is None or dx["status"] == V.NO_DIAGNOSIS_DATE
                else _day(dx["date"]),
                "driver": drivers.get(k, ""),
                **{name: number(values[name].get(k)) for name in _SINGLE},
                "pdl1_retest_date": _day(retest_date.get(k)),
                "metastases": metastases.get(k, ""),
                "last_contact_date": _day(last_contact.get(k)),
                "death_date": _day(deaths.get(k)),
            }
        )
    frame = pd.DataFrame(rows, columns=PATIENT_COLUMNS)
    blank = [name for name in OPTIONAL if (frame[name] == "").all()]
    return frame.drop(columns=blank)


#: Optional patient columns, left out when no patient has them (as a CSV without them).
OPTIONAL = ("pdl1_retest_tps", "pdl1_retest_date", "height_cm", "weight_kg")


_SINGLE = {
    "pdl1_tps": V.PDL1,
    "pdl1_retest_tps": V.PDL1_RETEST,
    "height_cm": V.HEIGHT,
    "weight_kg": V.WEIGHT,
}


def _driver(tests: pd.DataFrame) -> str:
    """The positive gene; `none` for a negative test; `unknown` for a test valued 0."""
    positive = tests[tests["value_concept"] == V.POSITIVE]
    if not positive.empty:
        return GENE[int(positive["concept"].iloc[0])]
    if (tests["value_concept"] == V.NEGATIVE).any():
        return "none"
    return "unknown"


def _treatments(cdm: Cdm, meas: pd.DataFrame, pid: dict[int, str]) -> pd.DataFrame:
    """One row per Treatment Regimen episode, with its linked facts."""
    e = cdm.table("episode")
    episodes = _pull(
        e.filter(e.episode_concept_id.isin([V.TREATMENT_REGIMEN, 32677])).select(
            id=e.episode_id.cast("int64"),
            person_id=e.person_id.cast("int64"),
            concept=e.episode_concept_id.cast("int64"),
            number=e.episode_number.cast("int64"),
            date=e.episode_start_date.cast("date"),
            end=e.episode_end_date.cast("date"),
            regimen=e.episode_source_value.cast("string"),
        ),
        dates=("date", "end"),
    )
    regimens = episodes[episodes["concept"] == V.TREATMENT_REGIMEN].sort_values("id")
    progressions = episodes[episodes["concept"] == 32677].sort_values("date")
    progression = progressions.groupby(["person_id", "number"])["date"].first().to_dict()
    link = cdm.table("episode_event")
    x = cdm.table("drug_exposure")
    doses = link.filter(link.episode_event_field_concept_id == V.DRUG_EXPOSURE_FIELD)
    doses = doses.inner_join(x, doses.event_id == x.drug_exposure_id).select(
        episode=doses.episode_id.cast("int64"),
        id=x.drug_exposure_id.cast("int64"),
        agent=x.drug_source_value.cast("string"),
        stop=x.stop_reason.cast("string"),
    )
    d = _pull(doses, dates=()).sort_values("id")
    agents = d.groupby("episode")["agent"].agg(lambda s: ";".join(dict.fromkeys(s)))
    stops = d.dropna(subset=["stop"]).groupby("episode")["stop"].last()
    linked = meas[(meas["field"] == V.EPISODE_FIELD) & (meas["concept"] == V.ECOG)]
    ecog = linked.groupby("event")["value"].last()
    o = cdm.table("observation")
    status = _pull(
        o.filter(o.obs_event_field_concept_id == V.EPISODE_FIELD).select(
            episode=o.observation_event_id.cast("int64"),
            answer=o.value_as_concept_id.cast("int64"),
        ),
        dates=(),
    )
    response = status.groupby("episode")["answer"].last()
    return pd.DataFrame(
        {
            "patient_id": regimens["person_id"].map(pid),
            "line": regimens["number"].map(number),
            "regimen": regimens["regimen"].fillna(""),
            "agents": regimens["id"].map(agents).fillna(""),
            "start_date": regimens["date"].map(_day),
            "last_dose_date": regimens["end"].map(_day),
            "end_reason": regimens["id"].map(stops).fillna(""),
            "ecog": regimens["id"].map(ecog).map(number),
            "best_response": regimens["id"]
            .map(response)
            .map(lambda a: RESPONSE.get(int(a), "") if pd.notna(a) else ""),
            "progression_date": [
                _day(progression.get((p, n)))
                for p, n in zip(regimens["person_id"], regimens["number"], strict=True)
            ],
        },
        columns=TREATMENT_COLUMNS,
    )


def _lesions(rows: pd.DataFrame, pid: dict[int, str]) -> pd.DataFrame:
    """Tumor size rows: lesion id in the source value, `role|lymph_node|status|organ`."""
    parts = rows["value_source"].fillna("").str.split("|", n=3, expand=True)
    parts = parts.reindex(columns=range(4)).fillna("")
    return pd.DataFrame(
        {
            "patient_id": rows["person_id"].map(pid),
            "assessment_date": rows["date"].map(_day),
            "lesion_id": rows["source"].fillna(""),
            "role": parts[0],
            "organ": parts[3],
            "lymph_node": parts[1],
            "size_mm": rows["value"].map(number),
            "status": parts[2],
        }
    )


def _adverse_events(cdm: Cdm, pid: dict[int, str]) -> pd.DataFrame:
    """Case Report Form condition rows: the term, `grade|immune_related`, the onset."""
    c = cdm.table("condition_occurrence")
    rows = _pull(
        c.filter(c.condition_type_concept_id == V.CRF).select(
            id=c.condition_occurrence_id.cast("int64"),
            person_id=c.person_id.cast("int64"),
            date=c.condition_start_date.cast("date"),
            term=c.condition_source_value.cast("string"),
            status=c.condition_status_source_value.cast("string"),
        )
    ).sort_values("id")
    parts = rows["status"].fillna("").str.split("|", n=1, expand=True)
    parts = parts.reindex(columns=range(2)).fillna("")
    return pd.DataFrame(
        {
            "patient_id": rows["person_id"].map(pid),
            "term": rows["term"].fillna(""),
            "grade": parts[0],
            "onset_date": rows["date"].map(_day),
            "immune_related": parts[1],
        }
    )
