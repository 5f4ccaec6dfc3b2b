"""Cohort extraction from an OMOP CDM: Ibis expressions, pushed down into the engine.

Each function returns one Ibis expression (no SQL strings): the engine (DuckDB, PostgreSQL,
Spark) compiles and runs it; only the screened persons' rows come back to Python.

Screening (reference §1, §2): a person is screened when they have a lung-cancer condition of
the NSCLC concept set (descendants of 4115276 through `concept_ancestor`, the verified
histology concepts, ICD-O-3 lung morphologies by code; small-cell carcinoma too, so that
validation rejects it with a clear error) and at least one exposure to an anti-PD-(L)1
ingredient (drug concepts rolled up to RxNorm ingredients through `concept_ancestor`, or
`drug_concept_id` 0 with a `drug_source_value` known to the drug dictionary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from rechallenge.data.drugs import load_dictionary, normalise_name
from rechallenge.sources.omop import concepts as C
from rechallenge.sources.omop.connect import Cdm

ICDO3_LUNG = r"^(8140|8070|8560|8012|8046)/3-C34"
CLINICAL_TABLES = {
    "visit_occurrence": "visit_start_date",
    "drug_exposure": "drug_exposure_start_date",
    "measurement": "measurement_date",
    "observation": "observation_date",
    "condition_occurrence": "condition_start_date",
}


@dataclass(frozen=True)
class Vocabulary:
    """Concept ids resolved at run time from the instance's own vocabulary tables."""

    ingredients: dict[int, str]  # ingredient concept id -> INN of the drug dictionary
    ecog: tuple[int, ...]
    stages: dict[int, str]  # Cancer Modifier concept id -> stage group
    icdo3: dict[int, str]  # ICDO3 condition concept id -> histology

    @property
    def pd1_axis(self) -> list[int]:
        """Ingredient ids of anti-PD-(L)1 agents."""
        dictionary = load_dictionary()
        return [i for i, inn in self.ingredients.items() if _pd1(dictionary, inn)]


def _pd1(dictionary: Any, inn: str) -> bool:
    drug = dictionary.lookup(inn)
    return bool(drug and drug.pd1_axis)


def resolve_vocabulary(cdm: Cdm) -> Vocabulary:
    """Small lookups on `concept`: ingredients, ECOG by code, stage and ICD-O-3 by code."""
    concept = cdm.table("concept")
    dictionary = load_dictionary()
    inns = sorted({d.inn for d in dictionary.drugs})
    ingredient = concept.filter(
        concept.concept_class_id == "Ingredient",
        concept.vocabulary_id.isin(["RxNorm", "RxNorm Extension"]),
        concept.concept_id.isin(list(C.INGREDIENTS)) | concept.concept_name.lower().isin(inns),
    ).select("concept_id", "concept_name")
    ingredients: dict[int, str] = {}
    for row in ingredient.to_pandas().itertuples(index=False):
        named = dictionary.lookup(str(row.concept_name))
        inn = C.INGREDIENTS.get(int(row.concept_id)) or (named.inn if named else None)
        if inn is not None:
            ingredients[int(row.concept_id)] = inn
    vocabulary, code = C.CODED["ecog"]
    ecog = concept.filter(concept.vocabulary_id == vocabulary, concept.concept_code == code)
    stage = concept.filter(
        concept.vocabulary_id == "Cancer Modifier",
        concept.concept_code.re_search(C.STAGE_CODE_PATTERN),
    ).select("concept_id", group=concept.concept_code.re_extract(C.STAGE_CODE_PATTERN, 1))
    icdo3 = concept.filter(
        concept.vocabulary_id == "ICDO3", concept.concept_code.re_search(ICDO3_LUNG)
    ).select("concept_id", "concept_code")
    return Vocabulary(
        ingredients,
        tuple(int(i) for i in ecog.concept_id.to_pandas()),
        {int(r.concept_id): C.STAGE_FROM_CODE[r.group] for r in stage.to_pandas().itertuples()},
        {
            int(r.concept_id): C.ICDO3_HISTOLOGY[str(r.concept_code)[:6]]
            for r in icdo3.to_pandas().itertuples()
        },
    )


def lung_conditions(cdm: Cdm, vocab: Vocabulary) -> Any:
    """Condition concept ids of the NSCLC set (plus small cell, to be rejected)."""
    ancestor = cdm.table("concept_ancestor")
    below = ancestor.filter(ancestor.ancestor_concept_id == C.NSCLC_ROOT).select(
        concept_id=ancestor.descendant_concept_id
    )
    listed = [*C.HISTOLOGY, C.SMALL_CELL, *vocab.icdo3]
    fixed = ibis.memtable({"concept_id": listed}).cast({"concept_id": "int64"})
    return below.cast({"concept_id": "int64"}).union(fixed, distinct=True)


def drug_rows(
    cdm: Cdm,
    vocab: Vocabulary,
    ingredients: list[int] | None = None,
    names: list[str] | None = None,
    exposure: Any | None = None,
) -> Any:
    """Every exposure to a dictionary drug: person, date, ingredient id (or source value).

    `ingredients` (ingredient concept ids) and `names` (normalised source values) narrow it,
    e.g. to the anti-PD-(L)1 agents; by default every drug of the dictionary. `exposure`:
    the drug_exposure rows to read (default the whole table).
    """
    exposure = cdm.table("drug_exposure") if exposure is None else exposure
    ancestor = cdm.table("concept_ancestor")
    wanted = list(vocab.ingredients) if ingredients is None else ingredients
    rollup = ancestor.filter(ancestor.ancestor_concept_id.isin(wanted or [-1])).select(
        drug_concept_id=ancestor.descendant_concept_id,
        ingredient_id=ancestor.ancestor_concept_id,
    )
    coded = exposure.inner_join(rollup, "drug_concept_id").select(
        exposure.person_id,
        date=exposure.drug_exposure_start_date.cast("date"),
        ingredient_id=rollup.ingredient_id.cast("int64"),
        source_value=ibis.null("string"),
        stop_reason=exposure.stop_reason.cast("string"),
    )
    unmapped = _by_source_value(
        exposure, sorted(load_dictionary().index) if names is None else names
    )
    return coded.union(
        unmapped.select(
            "person_id",
            date=unmapped.drug_exposure_start_date.cast("date"),
            ingredient_id=ibis.null("int64"),
            source_value=unmapped.drug_source_value.cast("string"),
            stop_reason=unmapped.stop_reason.cast("string"),
        ),
        distinct=False,
    )


def _by_source_value(exposure: Any, names: list[str]) -> Any:
    """Unmapped exposures (`drug_concept_id` 0) whose normalised source value is in `names`.

    A semi-join with the names as a small in-memory table, after the `drug_concept_id`
    filter: the text is normalised on unmapped rows only. (An IN list of the dictionary's
    ~400 names, evaluated on every row, took 2.6 s of a 2.7 s query at 3.4 × 10^6 exposures
    on DuckDB: benchmarks/results/omop.md.)
    """
    unmapped = exposure.filter(exposure.drug_concept_id == 0)
    keyed = unmapped.mutate(_name=unmapped.drug_source_value.lower().strip())
    known = ibis.memtable({"_name": names or [""]}).cast({"_name": "string"})
    return keyed.semi_join(known, "_name").drop("_name")


def screened_persons(cdm: Cdm, vocab: Vocabulary) -> Any:
    """Persons with an NSCLC-set condition and an anti-PD-(L)1 exposure (one column)."""
    condition = cdm.table("condition_occurrence")
    lung = lung_conditions(cdm, vocab)
    with_cancer = condition.filter(condition.condition_concept_id.isin(lung.concept_id)).select(
        "person_id"
    )
    pd1_names = sorted(
        k for k, d in load_dictionary().index.items() if d.pd1_axis and normalise_name(k) == k
    )
    ici = drug_rows(cdm, vocab, vocab.pd1_axis, pd1_names).select("person_id")
    return with_cancer.intersect(ici).select(person_id=ibis._.person_id.cast("int64"))


def screened_drugs(cdm: Cdm, vocab: Vocabulary, persons: Any) -> Any:
    """The screened persons' dictionary-drug rows, with their latest drug_exposure date and
    exposure count (`with_latest`): one query for the doses, the last contact and coverage."""
    exposure = screened(_narrow(cdm, "drug_exposure"), persons)
    rows = drug_rows(cdm, vocab, exposure=exposure)
    return with_latest(rows, exposure, "drug_exposure_start_date")


def screened_conditions(cdm: Cdm, vocab: Vocabulary, persons: Any) -> Any:
    """The screened persons' lung-cancer condition rows, with their latest condition date."""
    condition = screened(_narrow(cdm, "condition_occurrence"), persons)
    lung = lung_conditions(cdm, vocab)
    rows = condition.filter(condition.condition_concept_id.isin(lung.concept_id)).select(
        "person_id",
        "condition_concept_id",
        date=condition.condition_start_date.cast("date"),
    )
    return with_latest(rows, condition, "condition_start_date")


#: The columns the extraction reads of each table with a latest date (`with_latest`).
READ_COLUMNS = {
    "drug_exposure": [
        "person_id",
        "drug_concept_id",
        "drug_exposure_start_date",
        "drug_source_value",
        "stop_reason",
    ],
    "condition_occurrence": ["person_id", "condition_concept_id", "condition_start_date"],
    "measurement": [
        "person_id",
        "measurement_concept_id",
        "measurement_date",
        "value_as_number",
        "value_as_concept_id",
        "unit_concept_id",
        "unit_source_value",
        "range_low",
        "range_high",
        "operator_concept_id",
    ],
    "observation": [
        "person_id",
        "observation_concept_id",
        "observation_date",
        "value_as_concept_id",
    ],
}


def _narrow(cdm: Cdm, name: str) -> Any:
    """Table `name` with only the columns the extraction reads: the rows shared by a
    table's two branches (`with_latest`) are materialised narrow, not with every column."""
    return cdm.table(name).select(*READ_COLUMNS[name])


def screened(table: Any, persons: Any) -> Any:
    """Rows of `table` that belong to a screened person (a semi-join in the engine)."""
    return table.filter(table.person_id.isin(persons.person_id))


def measurements(cdm: Cdm, persons: Any, ids: list[int], latest: bool = False) -> Any:
    """The screened persons' measurement rows of the concepts `ids`, with the needed fields
    (with `latest`, also each person's latest measurement date: `with_latest`)."""
    m = screened(_narrow(cdm, "measurement"), persons)
    rows = m.filter(m.measurement_concept_id.isin(ids)).select(
        "person_id",
        concept_id="measurement_concept_id",
        date=m.measurement_date.cast("date"),
        value=m.value_as_number.cast("float64"),
        value_concept=m.value_as_concept_id.cast("int64"),
        unit=m.unit_concept_id.cast("int64"),
        unit_source=m.unit_source_value.cast("string"),
        low=m.range_low.cast("float64"),
        high=m.range_high.cast("float64"),
        operator=m.operator_concept_id.cast("int64"),
    )
    return with_latest(rows, m, "measurement_date") if latest else rows


def observations(cdm: Cdm, persons: Any, latest: bool = False) -> Any:
    """Smoking status and disease-status (response) observations of the screened persons
    (with `latest`, also each person's latest observation date: `with_latest`)."""
    o = screened(_narrow(cdm, "observation"), persons)
    wanted = (o.observation_concept_id == C.SMOKING_STATUS) | o.value_as_concept_id.isin(
        list(C.DISEASE_STATUS)
    )
    rows = o.filter(wanted).select(
        "person_id",
        concept_id=o.observation_concept_id.cast("int64"),
        date=o.observation_date.cast("date"),
        value_concept=o.value_as_concept_id.cast("int64"),
    )
    return with_latest(rows, o, "observation_date") if latest else rows


def episodes(cdm: Cdm, persons: Any) -> Any:
    """Disease Progression, First Occurrence and Recurrence episodes of the screened persons."""
    e = cdm.table("episode")
    kinds = [C.EPISODE_DISEASE_PROGRESSION, C.EPISODE_FIRST_OCCURRENCE, C.EPISODE_RECURRENCE]
    return (
        screened(e, persons)
        .filter(e.episode_concept_id.isin(kinds))
        .select(
            "person_id",
            concept_id=e.episode_concept_id.cast("int64"),
            date=e.episode_start_date.cast("date"),
        )
    )


LATEST = "_latest"  # marks a table's latest-date row of a person (`with_latest`)
ROWS = "_rows"  # on that row: how many rows the person has in the table


def with_latest(rows: Any, table: Any, column: str) -> Any:
    """`rows` (drawn from `table`) and, per person of `table`, one more row: the latest
    `column` date in `date` and the person's row count in `ROWS`, marked `LATEST`.

    One query per table instead of one for the rows and one more scan for the last contact:
    `table` (the screened persons' rows) is a common subexpression, which DuckDB and
    PostgreSQL materialise once for both branches (benchmarks/results/omop.md).
    """
    latest = table.group_by("person_id").aggregate(
        date=table[column].cast("date").max(), **{ROWS: table.count()}
    )
    schema = rows.schema()
    top = latest.select(
        **{
            name: (
                latest.person_id.cast(dtype)
                if name == "person_id"
                else latest.date
                if name == "date"
                else ibis.null(dtype)
            )
            for name, dtype in schema.items()
        },
        **{LATEST: ibis.literal(True), ROWS: latest[ROWS].cast("int64")},
    )
    marked = rows.mutate(**{LATEST: ibis.literal(False), ROWS: ibis.null("int64")})
    return marked.union(top, distinct=False)


def latest_dates(cdm: Cdm, persons: Any, name: str) -> Any:
    """Per screened person: the latest date of clinical table `name`, as `date`."""
    t = screened(cdm.table(name), persons)
    return t.group_by("person_id").aggregate(date=t[CLINICAL_TABLES[name]].cast("date").max())


def observation_ends(cdm: Cdm, persons: Any) -> Any:
    """Per screened person: the latest observation_period_end_date, as `op_end`."""
    op = screened(cdm.table("observation_period"), persons)
    return op.group_by("person_id").aggregate(
        op_end=op.observation_period_end_date.cast("date").max()
    )
