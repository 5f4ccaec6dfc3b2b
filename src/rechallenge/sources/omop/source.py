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
import numpy as np
import pandas as pd

from rechallenge.data.drugs import load_dictionary
from rechallenge.data.io import RawStudy, RawTable
from rechallenge.data.schema import END_REASONS
from rechallenge.errors import DataValidationError, Problem
from rechallenge.sources.omop import concepts as C
from rechallenge.sources.omop import convention, converted, coverage
from rechallenge.sources.omop import extract as X
from rechallenge.sources.omop.connect import Cdm, connect
from rechallenge.sources.omop.lines import line_table
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
        ids = _frame(X.screened_persons(cdm, vocab))
        persons = ibis.memtable(ids.astype({"person_id": "int64"}))
        return self._read_screened(cdm, vocab, persons)

    def _read_screened(self, cdm: Cdm, vocab: X.Vocabulary, persons: Any) -> RawStudy:
        """The tables of the screened `persons` (a cached one-column table in the engine)."""
        warnings: list[Problem] = [NO_CONVENTION]
        # One query per table: its rows and each person's latest date in it (the last
        # contact), so no table is read again for the last contact.
        drugs, latest = _pull_latest(X.screened_drugs(cdm, vocab, persons))
        tops = [latest]
        person = _pull(X.screened(cdm.table("person"), persons))
        conditions, latest = _pull_latest(X.screened_conditions(cdm, vocab, persons))
        tops.append(latest)
        death = _pull(X.screened(cdm.table("death"), persons)) if cdm.has("death") else None
        ids = [
            *C.LAB_TESTS,
            *C.METASTASIS,
            *C.DRIVER_GENES,
            *vocab.ecog,
            *vocab.stages,
            *self.settings.pdl1_tps_concept_ids,
        ]
        meas, latest = _pull_latest(X.measurements(cdm, persons, ids, latest=True))
        tops.append(latest)
        obs = None
        if cdm.has("observation"):
            obs, latest = _pull_latest(X.observations(cdm, persons, latest=True))
            tops.append(latest)
        if cdm.has("visit_occurrence"):
            tops.append(_pull(X.latest_dates(cdm, persons, "visit_occurrence")))
        epi = _pull(X.episodes(cdm, persons)) if cdm.has("episode") else None
        ends = None
        if self.settings.last_contact == "op_end" and cdm.has("observation_period"):
            ends = _pull(X.observation_ends(cdm, persons))
        contact = _last_contact(tops, ends)
        drugs = _with_inn(drugs, vocab)
        lines = self._lines(drugs, vocab, warnings)
        death_dates = _death_dates(death)
        lines = self._outcomes(lines, meas, obs, epi, death_dates, vocab, warnings)
        patients = self._patients(
            person, conditions, meas, obs, epi, contact, death_dates, lines, vocab
        )
        labs = self._labs(meas, warnings)
        total = int(tops[0][X.ROWS].sum())  # the screened persons' drug exposures
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
        return line_table(drugs[["person_id", "inn", "date", "stop_reason"]], self.settings.lines)

    def _outcomes(
        self,
        lines: pd.DataFrame,
        meas: pd.DataFrame,
        obs: pd.DataFrame | None,
        epi: pd.DataFrame | None,
        deaths: pd.Series,
        vocab: X.Vocabulary,
        warnings: list[Problem],
    ) -> pd.DataFrame:
        """ECOG, best response, progression (episode or proxy) and end reason per line.

        Column-wise: each fact is joined to the lines on person and filtered to the line's
        window, [start, next line start) (ECOG: [start - window, start]). Dates stay
        `datetime64` (`_raw` writes them as text).
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
        window = pd.Timedelta(days=self.settings.ecog_window_days)
        ecog = _in_window(lines, meas[meas["concept_id"].isin(vocab.ecog)], before=window)
        ecog = ecog.sort_values("date", kind="stable").groupby(key)["value"].last()
        status = obs[obs["value_concept"].isin(list(C.DISEASE_STATUS))] if obs is not None else None
        best = pd.Series(dtype=object)
        if status is not None and not status.empty:
            s = _in_window(lines, status)
            ranks = {c: C.RESPONSE_RANK[r] for c, r in C.DISEASE_STATUS.items()}
            s = s.assign(rank=s["value_concept"].map(ranks))
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
        level = ecog.reindex(index)
        known = level.notna().to_numpy()
        out["ecog"] = np.where(known, level.fillna(0).astype("int64").astype(str), "")
        out["best_response"] = best.reindex(index).fillna("").to_numpy()
        progression = np.full(len(out), np.datetime64("NaT"), dtype="datetime64[s]")
        source = np.full(len(out), "", dtype=object)
        if use_episode and progressions is not None:
            first = _in_window(lines, progressions).groupby(key)["date"].min().reindex(index)
            found = first.notna().to_numpy()
            progression[found] = first.to_numpy(dtype="datetime64[s]")[found]
            source[found] = "omop:episode"
        elif use_proxy:
            nxt = lines["next_start"].notna().to_numpy()
            progression[nxt] = lines["next_start"].to_numpy(dtype="datetime64[s]")[nxt]
            source[nxt] = "proxy:next_line_start"
            if self.settings.proxy == "next_line_or_death":
                death = lines["person_id"].map(deaths)
                dead = ~nxt & (death >= lines["start_date"]).to_numpy()  # NaT: never
                progression[dead] = death.to_numpy(dtype="datetime64[s]")[dead]
                source[dead] = "proxy:death"
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
        out["progression_date"] = progression
        out["progression_source"] = source
        return out

    def _patients(
        self,
        person: pd.DataFrame,
        conditions: pd.DataFrame,
        meas: pd.DataFrame,
        obs: pd.DataFrame | None,
        epi: pd.DataFrame | None,
        contact: pd.DataFrame,
        deaths: pd.Series,
        lines: pd.DataFrame,
        vocab: X.Vocabulary,
    ) -> pd.DataFrame:
        """One row per screened person (in person_id order), each fact one grouped pass."""
        person = person.sort_values("person_id").reset_index(drop=True)
        ids = pd.Index(person["person_id"].astype("int64"))

        def per_person(values: pd.Series) -> np.ndarray:
            return _text_column(values.reindex(ids)).to_numpy()

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
        pdl1 = m[
            m["concept_id"].isin(self.settings.pdl1_tps_concept_ids) & (m["unit"] == C.PERCENT)
        ]
        pdl1 = _num_column(pdl1.groupby("person_id")["value"].last())
        starts = lines.assign(pid=lines["patient_id"].astype(int))
        index = starts.groupby("pid")["start_date"].min() if not lines.empty else pd.Series()
        last = contact.set_index("person_id")
        chosen = last["last_event"]
        if self.settings.last_contact == "op_end":
            chosen = last["op_end"].where(last["op_end"].notna(), last["last_event"])
        named = histology.reindex(ids)
        fallback = np.where(ids.isin(diagnosis.index), "nos", "")
        return pd.DataFrame(
            {
                "patient_id": ids.astype(str),
                "sex": person["gender_concept_id"]
                .astype("int64")
                .map(C.SEX)
                .astype(object)
                .fillna(""),
                "birth_date": _births(person),
                "smoking": per_person(_smoking(obs, index)),
                "histology": np.where(named.notna(), named.astype(object), fallback),
                "stage": per_person(stage),
                "recurrent": per_person(_recurrent(epi)),
                "diagnosis_date": per_person(diagnosis),
                "driver": per_person(_driver(m)),
                "pdl1_tps": per_person(pdl1),
                "metastases": per_person(_metastases(m)),
                "last_contact_date": per_person(chosen.dropna()),
                "death_date": per_person(deaths),
            }
        )

    def _labs(self, meas: pd.DataFrame, warnings: list[Problem]) -> pd.DataFrame:
        """Lab rows in our units: value and range converted with the same factor."""
        labs = meas[meas["concept_id"].isin(list(C.LAB_TESTS))]
        labs = labs.sort_values(["person_id", "date", "concept_id"]).reset_index(drop=True)
        unit, factor = _units(labs, self.settings.unit_aliases)
        operator = labs["operator"].dropna()
        censored = int((operator.astype("int64") != C.OPERATOR_EQUAL).sum())
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
            {
                "patient_id": labs["person_id"].astype(str),
                "date": labs["date"],
                "test": labs["concept_id"].astype("int64").map(C.LAB_TESTS),
                "value": _num_column(labs["value"], factor),
                "unit": unit,
                "lln": _num_column(labs["low"], factor),
                "uln": _num_column(labs["high"], factor),
            },
            columns=["patient_id", "date", "test", "value", "unit", "lln", "uln"],
        )


def _with_inn(drugs: pd.DataFrame, vocab: X.Vocabulary) -> pd.DataFrame:
    """`drugs` with the dictionary INN of each row: by ingredient concept, else source value.

    Each distinct ingredient id and source value is looked up once (a row per dose repeats
    a few values: 3.4 × 10^5 rows took 2.8 s looked up row by row).
    """
    dictionary = load_dictionary()
    by_ingredient = _lookup(drugs["ingredient_id"], lambda i: vocab.ingredients.get(int(i)))

    def by_name(source: object) -> str | None:
        drug = dictionary.lookup(str(source))
        return drug.inn if drug else None

    by_source = _lookup(drugs["source_value"], by_name)
    inn = np.where(pd.isna(by_ingredient), by_source, by_ingredient)
    return drugs.assign(inn=pd.Series(inn, index=drugs.index, dtype=object))


def _lookup(values: pd.Series | pd.Index, find: Any) -> np.ndarray:
    """`find(value)` per row (None where blank), each distinct value looked up once."""
    codes, distinct = pd.factorize(values)  # a blank is code -1
    found = np.array([*(find(v) for v in distinct.tolist()), None], dtype=object)
    return found[codes]


def _in_window(
    lines: pd.DataFrame, facts: pd.DataFrame, before: pd.Timedelta | None = None
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
    """Run one Ibis expression; date columns as whole days, `datetime64[s]` (NaT when blank).

    (Kept as numpy dates, not one `datetime.date` object per value: sorting, grouping and
    windows then run in numpy, and `_raw` writes the text once at the end.)
    """
    frame = _frame(expr)
    for name in DATE_COLUMNS & set(frame.columns):
        frame[name] = _days(frame[name])
    return frame


def _frame(expr: Any) -> pd.DataFrame:
    """Run one Ibis expression into pandas through Arrow, column by column.

    Integers with blanks become float64 (NaN), dates `datetime64[ms]`, text pandas' string
    dtype. (Ibis' own `to_pandas` turns every column holding a NULL into a list of Python
    objects first: at 10^6 screened persons that was about 40 s of the 160 s read.)
    """
    table = expr.to_pyarrow()
    return table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)


def _days(values: pd.Series) -> pd.Series:
    """Dates or datetimes as whole days, `datetime64[s]` (the time of day dropped)."""
    days = pd.to_datetime(values)
    if days.dt.tz is not None:
        days = days.dt.tz_localize(None)
    return days.dt.normalize().astype("datetime64[s]")


def _pull_latest(expr: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run an `extract.with_latest` expression: its rows, and per person the latest date
    (`date`) and row count (`extract.ROWS`).

    The rows come back as the rows alone would: an integer column the latest-date rows
    made nullable (hence float) is integer again where the rows have no blank.
    """
    frame = _pull(expr)
    marked = frame[X.LATEST].astype(bool).to_numpy()
    rows = frame[~marked].drop(columns=[X.LATEST, X.ROWS]).reset_index(drop=True)
    schema = expr.schema()
    for name in rows.columns:
        column = rows[name]
        integer = schema[name].is_integer()
        if integer and column.dtype == "float64" and len(column) and not column.hasnans:
            rows[name] = column.astype(schema[name].to_pandas())
    latest = frame[marked][["person_id", "date", X.ROWS]].reset_index(drop=True)
    return rows, latest


def _last_contact(tops: list[pd.DataFrame], ends: pd.DataFrame | None) -> pd.DataFrame:
    """Per person: the latest date over the clinical tables, and observation_period's end
    (`op_end`, NaT unless `ends` is given)."""
    dates = pd.concat([t[["person_id", "date"]] for t in tops], ignore_index=True)
    latest = dates.groupby("person_id")["date"].max().rename("last_event").reset_index()
    if ends is None:
        return latest.assign(op_end=pd.Series(pd.NaT, index=latest.index, dtype="datetime64[s]"))
    return latest.merge(ends[["person_id", "op_end"]], on="person_id", how="left")


def _raw(name: str, frame: pd.DataFrame) -> RawTable:
    """Our text-cell table: dates ISO, blanks empty, like a CSV read."""
    cells = pd.DataFrame({c: _text_column(frame[c]) for c in frame.columns}, index=frame.index)
    cells = cells.astype(str)
    return RawTable(name, f"omop:{name}", cells.reset_index(drop=True))


def _text_column(values: pd.Series) -> pd.Series:
    """`_text` of every value, column-wise for date, integer and all-text columns."""
    if pd.api.types.is_datetime64_dtype(values.dtype):
        days = values.to_numpy(dtype="datetime64[D]")
        known = ~np.isnat(days)
        if not known.any() or days[known].astype("datetime64[Y]").astype(int).min() >= -970:
            text = np.datetime_as_string(days, unit="D").astype(object)
            text[~known] = ""
            return pd.Series(text, index=values.index)
    elif pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return values.astype(str)
    else:
        blank = values.isna()
        if pd.api.types.infer_dtype(values[~blank], skipna=False) == "string":
            return values.where(~blank, "")  # every value is text or blank
    return values.map(_text)


def _text(value: object) -> str:
    if value is None or (not isinstance(value, (str, tuple)) and pd.isna(value)):
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _num_column(values: pd.Series, factor: float | np.ndarray = 1.0) -> pd.Series:
    """Each value times its factor as `%.10g` text (blank stays blank), each distinct
    product formatted once."""
    product = values.to_numpy(dtype="float64", na_value=np.nan) * factor
    number = pd.Series(product, index=values.index)
    formatted = ~np.isnan(product) & (product != 0)  # blank stays blank; zero by its sign
    texts = {v: f"{v:.10g}" for v in np.unique(product[formatted]).tolist()}
    text = np.full(len(product), "", dtype=object)
    text[formatted] = number[formatted].map(texts).to_numpy(dtype=object)
    zero = product == 0
    text[zero] = np.where(np.signbit(product[zero]), "-0", "0")
    return pd.Series(text, index=values.index, dtype=object)


def _units(labs: pd.DataFrame, aliases: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """Per lab row: our unit text and the factor to it (unit concept, else an alias).

    A unit known to neither is named `unit_concept_id N` (NULL when blank), factor 1.
    Each distinct (unit concept, unit source value) pair is looked up once: a few pairs
    repeat over millions of rows.
    """
    pairs = pd.MultiIndex.from_arrays(
        [labs["unit"].astype("Float64"), labs["unit_source"].astype(object)]
    )

    def unit_of(pair: tuple[Any, Any]) -> tuple[str, float]:
        code = None if pd.isna(pair[0]) else int(pair[0])
        found = C.UNITS.get(code) if code is not None else None
        spelled = pair[1]
        if found is None and isinstance(spelled, str) and spelled in aliases:
            found = C.UCUM.get(aliases[spelled])
        if isinstance(found, tuple):
            return found[0], float(found[1])
        return f"unit_concept_id {code if code is not None else 'NULL'}", 1.0

    found = _lookup(pairs, unit_of)  # a pair with blanks is a pair too: no code -1
    unit = pd.Series([u for u, _ in found], index=labs.index, dtype=object)
    return unit, np.array([f for _, f in found], dtype="float64")


def _death_dates(death: pd.DataFrame | None) -> pd.Series:
    """Per person: the earliest death date (`datetime64[s]`)."""
    if death is None or death.empty:
        return pd.Series(dtype="datetime64[s]")
    return death.groupby("person_id")["death_date"].min().dropna()


def _births(person: pd.DataFrame) -> pd.Series:
    """Birth dates as text: birth_datetime, else the known parts of year, month, day."""
    parts = person[["year_of_birth", "month_of_birth", "day_of_birth"]]
    text = pd.Series("", index=person.index, dtype=object)
    if "birth_datetime" in person:
        stamp = pd.to_datetime(person["birth_datetime"])
        timed = stamp.notna().to_numpy()
        text[timed] = stamp[timed].dt.strftime("%Y-%m-%d")
    else:
        timed = np.zeros(len(person), dtype=bool)
    year = parts["year_of_birth"].notna().to_numpy()
    plain = ~timed & year
    if plain.any():
        text[plain] = parts.loc[plain, "year_of_birth"].astype("int64").astype(str)
        for column in ("month_of_birth", "day_of_birth"):
            value = parts.loc[plain, column]
            given = value.notna()
            rows = given[given].index
            text[rows] = text[rows] + value[rows].astype("int64").map("-{:02d}".format)
    rest = ~timed & ~year  # no year: the parts as _birth joins them
    for at in np.flatnonzero(rest):
        text.iloc[at] = _birth(person.iloc[at])
    return text


def _birth(p: Any) -> str:
    if pd.notna(p.get("birth_datetime", None)):
        return pd.Timestamp(p["birth_datetime"]).strftime("%Y-%m-%d")
    parts = [p["year_of_birth"], p["month_of_birth"], p["day_of_birth"]]
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


def _metastases(m: pd.DataFrame) -> pd.Series:
    """Per person: the distinct metastasis sites, sorted, joined by `;`."""
    sites = m[m["concept_id"].isin(list(C.METASTASIS))]
    sites = pd.DataFrame(
        {"person_id": sites["person_id"], "site": sites["concept_id"].map(C.METASTASIS)}
    )
    sites = sites.drop_duplicates().sort_values(["person_id", "site"])
    if sites.empty:
        return pd.Series(dtype=object)
    person = sites["person_id"].to_numpy()
    begin = np.flatnonzero(np.diff(person, prepend=person[0] - 1))
    names = sites["site"].tolist()
    ends = [*begin[1:].tolist(), len(names)]
    joined = [";".join(names[a:b]) for a, b in zip(begin.tolist(), ends, strict=True)]
    return pd.Series(joined, index=person[begin], dtype=object)


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
    kinds = epi["concept_id"]
    recurrence = (kinds == C.EPISODE_RECURRENCE).groupby(epi["person_id"]).any()
    first = (kinds == C.EPISODE_FIRST_OCCURRENCE).groupby(epi["person_id"]).any()
    label = np.where(recurrence, "yes", np.where(first.reindex(recurrence.index), "no", ""))
    return pd.Series(label, index=recurrence.index, dtype=object)
