"""The OMOP source: run the extraction, then build our data-model tables as text cells.

The tables go through the same validation as a CSV folder (`validate_raw_study`). Every
treatment line carries `line_source` (derived:lot_rule_A) and `progression_source`
(`omop:episode`, `proxy:next_line_start`, `proxy:death` or blank); a proxy in use is also a
data-quality warning (OMOP-010), so the report says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from rechallenge.data.drugs import load_dictionary
from rechallenge.data.io import RawStudy, RawTable
from rechallenge.data.schema import END_REASONS
from rechallenge.errors import DataValidationError, Problem
from rechallenge.sources.omop import concepts as C
from rechallenge.sources.omop import convention, converted, coverage
from rechallenge.sources.omop import extract as X
from rechallenge.sources.omop.connect import Cdm, connect
from rechallenge.sources.omop.lines import assign_lines
from rechallenge.sources.omop.settings import OmopSettings
from rechallenge.sources.omop.spark_settings import SparkSettings

REQUIRED_TABLES = frozenset(
    {
        "person",
        "condition_occurrence",
        "drug_exposure",
        "measurement",
        "concept",
        "concept_ancestor",
    }
)

NO_CONVENTION = Problem(
    "OMOP-011",
    "omop",
    "the instance does not declare the rechallenge convention: no lesion or graded adverse "
    "event rows are read (RECIST and adverse-event analyses are not available)",
    "convert a study with `rechallenge convert`, or set omop.convention if the instance "
    "follows it (docs/omop.md)",
    severity="warning",
)


class OmopSource:
    """A study read from an OMOP CDM v5.4 instance through Ibis."""

    kind = "omop"

    def __init__(
        self,
        location: Path | None,
        *,
        database: str | None = None,
        schema: str | None = None,
        settings: OmopSettings | None = None,
        spark: SparkSettings | None = None,
        cdm: Cdm | None = None,
    ) -> None:
        self.location = location
        self.database = database
        self.settings = settings or OmopSettings()
        self.spark = spark  # a Parquet folder or `spark://` master read on Spark when set
        self.schema = schema or self.settings.schema_name
        self._cdm = cdm
        self.provenance: dict[str, Any] = {}

    @property
    def cdm(self) -> Cdm:
        """The connection, opened on first use; a failure is a problem, not a traceback."""
        if self._cdm is None:
            try:
                self._cdm = connect(self.location, self.database, self.schema, self.spark)
            except Exception as exc:  # driver errors differ per engine
                raise DataValidationError(
                    [
                        Problem(
                            "OMOP-100",
                            "omop",
                            f"cannot open the OMOP database ({type(exc).__name__})",
                            "check the path or URL, the server and the credentials",
                        )
                    ]
                ) from exc
        return self._cdm

    def describe(self) -> dict[str, Any]:
        """Kind, engine, schema and, after `read`, how lines and progression were derived."""
        where = self.database.split("@")[-1] if self.database else str(self.location)
        return {"kind": self.kind, "location": where, **self.provenance}

    def read(self) -> RawStudy:
        """The screened persons' tables in our data model (cells as text).

        A connection this source opened is closed afterwards; one passed in stays open.
        """
        owned = self._cdm is None
        try:
            return self._read(self.cdm)
        finally:
            if owned and self._cdm is not None:
                self._cdm.backend.disconnect()
                self._cdm = None

    def _read(self, cdm: Cdm) -> RawStudy:
        """`read` on an open connection."""
        missing = sorted(REQUIRED_TABLES - cdm.names)
        if missing:
            where = f"schema {cdm.schema!r}" if cdm.schema else "the instance"
            raise DataValidationError(
                [
                    Problem(
                        "OMOP-101",
                        "omop",
                        f"{where} lacks the CDM table(s) {', '.join(missing)}",
                        "name the schema holding the CDM tables with --schema (omop.schema)",
                    )
                ]
            )
        version = converted.declared(cdm)
        if version is not None or self.settings.convention:
            return self._read_converted(cdm, version)
        vocab = X.resolve_vocabulary(cdm)
        # Screened once; the ids (one small column) go back to the engine as an in-memory
        # table, so every table below is a semi-join with it instead of running the
        # screening again per table (benchmarks/results/omop.md).
        ids = X.screened_persons(cdm, vocab).to_pandas()
        persons = ibis.memtable(ids.astype({"person_id": "int64"}))
        return self._read_screened(cdm, vocab, persons)

    def _read_screened(self, cdm: Cdm, vocab: X.Vocabulary, persons: Any) -> RawStudy:
        """The tables of the screened `persons` (a cached one-column table in the engine)."""
        warnings: list[Problem] = [NO_CONVENTION]
        drugs = _pull(X.screened(X.drug_rows(cdm, vocab), persons))
        person = _pull(X.screened(cdm.table("person"), persons))
        condition = cdm.table("condition_occurrence")
        lung = X.lung_conditions(cdm, vocab)
        conditions = (
            X.screened(condition, persons)
            .filter(condition.condition_concept_id.isin(lung.concept_id))
            .select(
                "person_id",
                "condition_concept_id",
                date=condition.condition_start_date.cast("date"),
            )
        )
        conditions = _pull(conditions)
        death = _pull(X.screened(cdm.table("death"), persons)) if cdm.has("death") else None
        ids = [
            *C.LAB_TESTS,
            *C.METASTASIS,
            *C.DRIVER_GENES,
            *vocab.ecog,
            *vocab.stages,
            *self.settings.pdl1_tps_concept_ids,
        ]
        meas = _pull(X.measurements(cdm, persons, ids))
        obs = _pull(X.observations(cdm, persons)) if cdm.has("observation") else None
        epi = _pull(X.episodes(cdm, persons)) if cdm.has("episode") else None
        contact = _pull(X.last_contact(cdm, persons, self.settings))
        drugs = _with_inn(drugs, vocab)
        lines = self._lines(drugs, vocab, warnings)
        death_dates = _death_dates(death)
        lines = self._outcomes(lines, meas, obs, epi, death_dates, vocab, warnings)
        patients = self._patients(
            person, conditions, meas, obs, epi, contact, death_dates, lines, vocab
        )
        labs = self._labs(meas, warnings)
        total = coverage.exposure_total(cdm, persons)
        warnings += coverage.coverage_problems(total, drugs, patients, lines, labs)
        self.provenance = {
            "engine": cdm.engine,
            "schema": cdm.schema,
            "line_rule": "derived:lot_rule_A",
            "line_settings": self.settings.lines.model_dump(),
            "progression_source": self.provenance_progression,
            "screened_persons": len(patients),
        }
        tables = {
            "patients": _raw("patients", patients),
            "treatments": _raw("treatments", lines),
        }
        if not labs.empty:
            tables["labs"] = _raw("labs", labs)
        return RawStudy(Path(self.describe()["location"]), tables, {}, tuple(warnings))

    provenance_progression = "none"

    def _read_converted(self, cdm: Cdm, version: str | None) -> RawStudy:
        """An instance of the rechallenge convention: every table read back as converted."""
        missing = sorted(converted.TABLES - cdm.names)
        if missing:
            raise DataValidationError(
                [
                    Problem(
                        "OMOP-102",
                        "omop",
                        f"the instance follows the rechallenge convention but lacks the "
                        f"table(s) {', '.join(missing)}",
                        "convert the study again with `rechallenge convert`, or switch "
                        "omop.convention off",
                    )
                ]
            )
        frames = converted.read_converted(cdm)
        self.provenance = {
            "engine": cdm.engine,
            "schema": cdm.schema,
            "convention": f"{convention.NAME} {version}" if version else "configured",
            "line_rule": "omop:episode",
            "progression_source": "omop:episode",
            "screened_persons": len(frames["patients"]),
        }
        tables = {name: _raw(name, frame) for name, frame in frames.items()}
        return RawStudy(Path(self.describe()["location"]), tables, {}, ())

    def _lines(
        self, drugs: pd.DataFrame, vocab: X.Vocabulary, warnings: list[Problem]
    ) -> pd.DataFrame:
        drugs = drugs.dropna(subset=["inn"])
        from_source = int(drugs["ingredient_id"].isna().sum())
        if from_source:
            warnings.append(
                Problem(
                    "OMOP-001",
                    "drug_exposure",
                    f"{from_source} drug exposure(s) have drug_concept_id 0 and were mapped from "
                    "drug_source_value through the drug dictionary",
                    "map these drugs to RxNorm ingredients in the instance's ETL",
                    severity="warning",
                )
            )
        return assign_lines(drugs[["person_id", "inn", "date", "stop_reason"]], self.settings.lines)

    def _outcomes(
        self,
        lines: pd.DataFrame,
        meas: pd.DataFrame,
        obs: pd.DataFrame | None,
        epi: pd.DataFrame | None,
        deaths: dict[int, dt.date],
        vocab: X.Vocabulary,
        warnings: list[Problem],
    ) -> pd.DataFrame:
        """ECOG, best response, progression (episode or proxy) and end reason per line.

        Column-wise: each fact is joined to the lines on person and filtered to the line's
        window, [start, next line start) (ECOG: [start - window, start]).
        """
        lines = lines.sort_values(["person_id", "line"]).reset_index(drop=True)
        lines["next_start"] = lines.groupby("person_id")["start_date"].shift(-1)
        key = ["person_id", "line"]
        progressions = (
            epi[epi["concept_id"] == C.EPISODE_DISEASE_PROGRESSION] if epi is not None else None
        )
        mode = self.settings.progression
        use_episode = mode != "proxy" and progressions is not None and not progressions.empty
        use_proxy = mode == "proxy" or (mode == "episode_or_proxy" and not use_episode)
        self.provenance_progression = (
            "omop:episode"
            if use_episode
            else f"proxy:{self.settings.proxy}"
            if use_proxy
            else "none"
        )
        window = dt.timedelta(days=self.settings.ecog_window_days)
        ecog = _in_window(lines, meas[meas["concept_id"].isin(vocab.ecog)], before=window)
        ecog = ecog.sort_values("date").groupby(key)["value"].last()
        status = obs[obs["value_concept"].isin(list(C.DISEASE_STATUS))] if obs is not None else None
        best = pd.Series(dtype=object)
        if status is not None and not status.empty:
            s = _in_window(lines, status)
            s = s.assign(
                rank=s["value_concept"].map(lambda v: C.RESPONSE_RANK[C.DISEASE_STATUS[int(v)]])
            )
            best = s.groupby(key)["rank"].min().map({r: k for k, r in C.RESPONSE_RANK.items()})
        out = pd.DataFrame(
            {
                "patient_id": lines["person_id"].astype(str),
                "line": lines["line"],
                "regimen": "",
                "agents": lines["agents"].map(";".join),
                "start_date": lines["start_date"],
                "last_dose_date": lines["last_dose_date"],
                "end_reason": lines["stop_reason"].where(
                    lines["stop_reason"].isin(END_REASONS), ""
                ),
                "line_source": lines["line_source"],
            }
        )
        index = pd.MultiIndex.from_frame(lines[key])
        out["ecog"] = [("" if pd.isna(v) else str(int(v))) for v in ecog.reindex(index)]
        out["best_response"] = best.reindex(index).fillna("").to_numpy()
        for column in ("progression_date", "progression_source"):
            out[column] = pd.Series([""] * len(out), index=out.index, dtype=object)
        if use_episode and progressions is not None:
            first = _in_window(lines, progressions).groupby(key)["date"].min().reindex(index)
            found = first.notna().to_numpy()
            out.loc[found, "progression_date"] = first[found].to_numpy()
            out.loc[found, "progression_source"] = "omop:episode"
        elif use_proxy:
            nxt = lines["next_start"].notna().to_numpy()
            out.loc[nxt, "progression_date"] = lines.loc[nxt, "next_start"].to_numpy()
            out.loc[nxt, "progression_source"] = "proxy:next_line_start"
            if self.settings.proxy == "next_line_or_death":
                death = lines["person_id"].map(lambda p: deaths.get(int(p)))
                dead = (~nxt) & death.notna().to_numpy()
                dead &= [
                    bool(d and d >= s) for d, s in zip(death, lines["start_date"], strict=True)
                ]
                out.loc[dead, "progression_date"] = death[dead].to_numpy()
                out.loc[dead, "progression_source"] = "proxy:death"
            warnings.append(
                Problem(
                    "OMOP-010",
                    "treatments",
                    f"progression dates are a proxy ({self.settings.proxy}): the instance has no "
                    "Disease Progression episodes; endpoints built on them are time to next "
                    "treatment or death, not PFS",
                    "load Oncology-extension episodes (32677) or set omop.progression",
                    severity="warning",
                )
            )
        return out

    def _patients(
        self,
        person: pd.DataFrame,
        conditions: pd.DataFrame,
        meas: pd.DataFrame,
        obs: pd.DataFrame | None,
        epi: pd.DataFrame | None,
        contact: pd.DataFrame,
        deaths: dict[int, dt.date],
        lines: pd.DataFrame,
        vocab: X.Vocabulary,
    ) -> pd.DataFrame:
        """One row per screened person (in person_id order), each fact one grouped pass."""
        person = person.sort_values("person_id").reset_index(drop=True)
        ids = [int(i) for i in person["person_id"]]

        def per_person(values: pd.Series) -> list[object]:
            return [values.get(i, "") for i in ids]

        cond = conditions.sort_values(["person_id", "date"], kind="stable")
        labels = {**C.HISTOLOGY, **vocab.icdo3, C.SMALL_CELL: "small_cell"}
        cond = cond.assign(histology=cond["condition_concept_id"].astype(int).map(labels))
        small = cond[cond["histology"] == "small_cell"].groupby("person_id")["histology"].first()
        histology = cond.dropna(subset=["histology"]).groupby("person_id")["histology"].first()
        histology = pd.concat([histology.drop(small.index, errors="ignore"), small])
        diagnosis = cond.groupby("person_id")["date"].first()
        m = meas.sort_values(["person_id", "date"], kind="stable")
        stage = m[m["concept_id"].isin(list(vocab.stages))]
        stage = stage.groupby("person_id")["concept_id"].first().map(vocab.stages)
        sites = m[m["concept_id"].isin(list(C.METASTASIS))]
        sites = sites.assign(site=sites["concept_id"].map(C.METASTASIS))
        metastases = sites.groupby("person_id")["site"].agg(lambda v: ";".join(sorted(set(v))))
        pdl1 = m[
            m["concept_id"].isin(self.settings.pdl1_tps_concept_ids) & (m["unit"] == C.PERCENT)
        ]
        pdl1 = pdl1.groupby("person_id")["value"].last().map(lambda v: _num(v, 1.0))
        starts = lines.assign(pid=lines["patient_id"].astype(int))
        index = starts.groupby("pid")["start_date"].min() if not lines.empty else pd.Series()
        last = contact.set_index("person_id")
        chosen = last["last_event"]
        if self.settings.last_contact == "op_end":
            chosen = last["op_end"].where(last["op_end"].notna(), last["last_event"])
        return pd.DataFrame(
            {
                "patient_id": [str(i) for i in ids],
                "sex": [C.SEX.get(int(g), "") for g in person["gender_concept_id"]],
                "birth_date": [_birth(p) for p in person.itertuples(index=False)],
                "smoking": per_person(_smoking(obs, index)),
                "histology": [histology.get(i, "nos" if i in diagnosis.index else "") for i in ids],
                "stage": per_person(stage),
                "recurrent": per_person(_recurrent(epi)),
                "diagnosis_date": per_person(diagnosis),
                "driver": per_person(_driver(m)),
                "pdl1_tps": per_person(pdl1),
                "metastases": per_person(metastases),
                "last_contact_date": per_person(chosen.dropna()),
                "death_date": [deaths.get(i, "") for i in ids],
            }
        )

    def _labs(self, meas: pd.DataFrame, warnings: list[Problem]) -> pd.DataFrame:
        """Lab rows in our units: value and range converted with the same factor."""
        labs = meas[meas["concept_id"].isin(list(C.LAB_TESTS))]
        rows, unknown, censored = [], 0, 0
        for r in labs.sort_values(["person_id", "date", "concept_id"]).itertuples(index=False):
            unit, factor = _unit(r, self.settings.unit_aliases)
            if unit is None:
                unknown += 1
                unit = f"unit_concept_id {r.unit if pd.notna(r.unit) else 'NULL'}"
            if pd.notna(r.operator) and int(r.operator) != C.OPERATOR_EQUAL:
                censored += 1
            rows.append(
                {
                    "patient_id": str(r.person_id),
                    "date": r.date,
                    "test": C.LAB_TESTS[int(r.concept_id)],
                    "value": _num(r.value, factor),
                    "unit": unit,
                    "lln": _num(r.low, factor),
                    "uln": _num(r.high, factor),
                }
            )
        if censored:
            warnings.append(
                Problem(
                    "OMOP-021",
                    "measurement",
                    f"{censored} lab value(s) carry a non-'=' operator (censored values)",
                    "review these values: they are not exact",
                    severity="warning",
                )
            )
        return pd.DataFrame(
            rows, columns=["patient_id", "date", "test", "value", "unit", "lln", "uln"]
        )


def _with_inn(drugs: pd.DataFrame, vocab: X.Vocabulary) -> pd.DataFrame:
    """`drugs` with the dictionary INN of each row: by ingredient concept, else source value."""
    dictionary = load_dictionary()
    inn = drugs["ingredient_id"].map(_per_value(lambda i: vocab.ingredients.get(int(i))))
    by_source = drugs["source_value"].map(
        _per_value(lambda s: d.inn if (d := dictionary.lookup(str(s))) else None)
    )
    return drugs.assign(inn=inn.fillna(by_source))


def _per_value(function: Any) -> Any:
    """`function` on non-blank values, computed once per distinct value (a row per dose
    repeats a few values: 3.4 × 10^5 rows took 2.8 s looked up row by row); blank → None."""
    cache: dict[object, object] = {}

    def once(value: object) -> object:
        if value is None or pd.isna(value):
            return None
        if value not in cache:
            cache[value] = function(value)
        return cache[value]

    return once


def _in_window(
    lines: pd.DataFrame, facts: pd.DataFrame, before: dt.timedelta | None = None
) -> pd.DataFrame:
    """`facts` joined to `lines` on person, kept when dated in the line's window.

    Default window [start, next line start); with `before`, [start - before, start].
    """
    joined = lines[["person_id", "line", "start_date", "next_start"]].merge(facts, on="person_id")
    if joined.empty:
        return joined
    date = pd.to_datetime(joined["date"])
    start = pd.to_datetime(joined["start_date"])
    if before is not None:
        keep = (date >= start - before) & (date <= start)
    else:
        nxt = pd.to_datetime(joined["next_start"])
        keep = (date >= start) & (nxt.isna() | (date < nxt))
    return joined[keep]


DATE_COLUMNS = {"date", "last_event", "op_end", "death_date"}


def _pull(expr: Any) -> pd.DataFrame:
    """Run one Ibis expression; date columns as `datetime.date` (None when blank)."""
    frame: pd.DataFrame = expr.to_pandas()
    for name in DATE_COLUMNS & set(frame.columns):
        values = pd.to_datetime(frame[name])
        dates = values.dt.date.to_numpy(dtype=object, copy=True)
        dates[values.isna().to_numpy()] = None
        frame[name] = pd.Series(dates, index=frame.index, dtype=object)
    return frame


def _raw(name: str, frame: pd.DataFrame) -> RawTable:
    """Our text-cell table: dates ISO, blanks empty, like a CSV read."""
    cells = frame.map(_text).astype(str)
    return RawTable(name, f"omop:{name}", cells.reset_index(drop=True))


def _text(value: object) -> str:
    if value is None or (not isinstance(value, (str, tuple)) and pd.isna(value)):
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _num(value: object, factor: float) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{float(value) * factor:.10g}"  # type: ignore[arg-type]


def _unit(r: Any, aliases: dict[str, str]) -> tuple[str | None, float]:
    if pd.notna(r.unit) and int(r.unit) in C.UNITS:
        return C.UNITS[int(r.unit)]
    if isinstance(r.unit_source, str) and r.unit_source in aliases:
        return C.UCUM.get(aliases[r.unit_source], (None, 1.0))
    return None, 1.0


def _death_dates(death: pd.DataFrame | None) -> dict[int, dt.date]:
    if death is None or death.empty:
        return {}
    d = death.assign(death_date=pd.to_datetime(death["death_date"]).dt.date)
    return {int(k): v for k, v in d.groupby("person_id")["death_date"].min().items()}


def _birth(p: Any) -> str:
    if pd.notna(getattr(p, "birth_datetime", None)):
        return pd.Timestamp(p.birth_datetime).strftime("%Y-%m-%d")
    parts = [p.year_of_birth, p.month_of_birth, p.day_of_birth]
    known = [int(x) for x in parts if pd.notna(x)]
    return "-".join(f"{x:02d}" if i else str(x) for i, x in enumerate(known))


def _driver(m: pd.DataFrame) -> pd.Series:
    """Per person: the first positive gene; `none` when every test is negative; else absent."""
    tests = m[m["concept_id"].isin(list(C.DRIVER_GENES))]
    positive = tests[tests["value_concept"] == C.POSITIVE].groupby("person_id")["concept_id"]
    gene = positive.first().map(C.DRIVER_GENES)
    negative = (tests["value_concept"] == C.NEGATIVE).groupby(tests["person_id"]).all()
    none = pd.Series("none", index=negative[negative].index, dtype=object)
    return pd.concat([none.drop(gene.index, errors="ignore"), gene])


def _smoking(obs: pd.DataFrame | None, index: pd.Series) -> pd.Series:
    """Per person: the latest smoking answer on or before the first line (blank for 0)."""
    if obs is None or obs.empty:
        return pd.Series(dtype=object)
    rows = obs[obs["concept_id"] == C.SMOKING_STATUS].sort_values(["person_id", "date"])
    limit = pd.to_datetime(rows["person_id"].astype(int).map(index))
    rows = rows[limit.isna().to_numpy() | (pd.to_datetime(rows["date"]) <= limit).to_numpy()]
    answer = rows.groupby("person_id")["value_concept"].last()
    return answer.map(lambda v: C.SMOKING_ANSWERS.get(int(v), "") if pd.notna(v) else "")


def _recurrent(epi: pd.DataFrame | None) -> pd.Series:
    """Per person: yes with a Recurrence episode, no with only a First Occurrence."""
    if epi is None or epi.empty:
        return pd.Series(dtype=object)
    kinds = epi.groupby("person_id")["concept_id"].agg(set)
    return kinds.map(
        lambda k: (
            "yes"
            if C.EPISODE_RECURRENCE in k
            else ("no" if C.EPISODE_FIRST_OCCURRENCE in k else "")
        )
    )
