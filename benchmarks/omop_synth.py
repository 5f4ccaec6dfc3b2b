"""A synthetic OMOP CDM v5.4 at scale (10^3 … 10^6 persons, ~100 rows each), written in chunks.

    python -m benchmarks.omop_synth --persons 100000 --out DIR [--chunk 50000] [--duckdb]

Writes `DIR/<table>/part-NNNNN.parquet`, one file per chunk of persons per table (the OMOP
reader takes a folder of per-table folders, `connect.table_files`), and the vocabulary
tables as single files; `--duckdb` also loads them into `DIR/omop.duckdb` (schema `cdm`),
streamed by DuckDB. Memory is bounded by the chunk: each chunk's rows are built with
numpy/pyarrow from the 24 seed persons, written and dropped.

Deterministic, no randomness. Every `share`-th person (person_id ≡ 1 mod share) is a study
person: study person j is seed patient ((j - 1) mod 24) + 1 of examples/omop_cohort/
generate.py with its dates shifted by 7 × (((j - 1) div 24) mod 10,000) days, row for row as
`generate.build` writes it (share 1 and no filler give `build(persons)`'s tables). The other
persons are not in the study: a person row, an observation period, a death for one in
twenty, and one in ten has a lung-cancer condition with chemotherapy but no anti-PD-(L)1
drug (screening must look at them and leave them out). Every person, study or not, gets
filler rows (visits, conditions, drugs and measurements of concepts the study never reads,
dated 2005–2014, before any study date), so the study persons' tables read back unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
SEEDS = 24
# shifts cycle after 10,000 weeks (~190 years) so that every date stays before 2262, the
# last day a datetime64[ns] column holds; fewer than 240,000 study persons never wrap
WEEKS = 10_000
PERSON_TABLES = (
    "person",
    "death",
    "observation_period",
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "observation",
    "episode",
)
# Row-id references inside a person's rows: column -> the table whose id it holds.
REFERENCES = {
    ("episode", "episode_parent_id"): "episode",
    ("measurement", "measurement_event_id"): "condition_occurrence",
}
FILLER = {"visit_occurrence": 10, "condition_occurrence": 8, "drug_exposure": 30, "measurement": 48}
# Concepts the study never reads: common chronic conditions, drugs and vital signs.
OTHER_CONDITIONS = np.array([201826, 320128, 255573, 317576, 433736], dtype=np.int64)
OTHER_DRUGS = np.array([1503297, 1308216, 1545958, 1125315, 1332418], dtype=np.int64)
OTHER_MEASUREMENTS = np.array([3004410, 3027018, 3004249, 3025315, 3036277], dtype=np.int64)
CARBOPLATIN = 1344905
FILLER_START = dt.date(2005, 1, 1)
FILLER_DAYS = 3650
EPOCH = dt.date(1970, 1, 1)


def _generator() -> Any:
    """examples/omop_cohort/generate.py as a module (the seed persons and the vocabulary)."""
    path = ROOT / "examples" / "omop_cohort" / "generate.py"
    spec = importlib.util.spec_from_file_location("omop_generate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["omop_generate"] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class SeedTable:
    """One person table of the 24 seed persons, sorted by person, with each seed's block."""

    rows: pa.Table
    start: np.ndarray  # first row of seed s (0-based) in `rows`
    count: np.ndarray  # rows of seed s
    first_id: np.ndarray  # the row id (`<table>_id`) of seed s's first row


def seed_tables() -> tuple[dict[str, SeedTable], dict[str, pa.Table]]:
    """The seed persons' tables (by seed block) and the vocabulary tables, from generate.py."""
    frames = _generator().build(SEEDS)
    person: dict[str, SeedTable] = {}
    vocabulary: dict[str, pa.Table] = {}
    for name, frame in frames.items():
        if name.startswith("_"):
            continue
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if name not in PERSON_TABLES:
            vocabulary[name] = table
            continue
        table = table.take(pc.sort_indices(table, [("person_id", "ascending")]))
        owners = table.column("person_id").to_numpy() - 1
        count = np.bincount(owners, minlength=SEEDS)
        start = np.cumsum(count) - count
        key = f"{name}_id"
        ids = table.column(key).to_numpy() if key in table.column_names else np.zeros(len(owners))
        first = np.array([ids[s] if c else 0 for s, c in zip(start, count, strict=True)])
        person[name] = SeedTable(table, start, count, first.astype(np.int64))
    return person, vocabulary


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each output row: the index of its owner and its position in the owner's block."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - np.repeat(starts, counts)


def _shift(column: pa.ChunkedArray, days: np.ndarray) -> pa.Array:
    """A date or timestamp column moved by `days` (one value per row); nulls stay null."""
    kind = column.type
    if pa.types.is_date32(kind):
        moved = pc.add(column.cast(pa.int32()), pa.array(days.astype(np.int32)))
        return moved.cast(pa.date32())
    unit = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
    moved = pc.add(column.cast(pa.int64()), pa.array(days.astype(np.int64) * 86_400 * unit))
    return moved.cast(kind)


@dataclass
class Counters:
    """The next row id of each table, carried from chunk to chunk."""

    next_id: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PERSON_TABLES, 1))


def _study_rows(
    seeds: dict[str, SeedTable], persons: np.ndarray, counters: Counters, share: int
) -> dict[str, pa.Table]:
    """The study persons `persons` (person ids) of the chunk: seed rows, shifted, renumbered."""
    j = (persons - 1) // share + 1
    seed = (j - 1) % SEEDS
    shift = 7 * (((j - 1) // SEEDS) % WEEKS)
    first_new: dict[str, np.ndarray] = {}
    for name, table in seeds.items():
        counts = table.count[seed]
        first_new[name] = counters.next_id[name] + np.cumsum(counts) - counts
    out: dict[str, pa.Table] = {}
    for name, table in seeds.items():
        counts = table.count[seed]
        owner, pos = _expand(counts)
        rows = table.rows.take(pa.array(table.start[seed][owner] + pos))
        columns = {}
        for column_name in rows.column_names:
            column = rows.column(column_name)
            if column_name == "person_id":
                column = pa.array(persons[owner])
            elif column_name == f"{name}_id":
                column = pa.array(first_new[name][owner] + pos)
            elif (name, column_name) in REFERENCES:
                target = REFERENCES[(name, column_name)]
                delta = first_new[target][owner] - seeds[target].first_id[seed][owner]
                column = pc.add(column, pa.array(delta))
            elif pa.types.is_date32(column.type) or pa.types.is_timestamp(column.type):
                column = _shift(column, shift[owner])
            columns[column_name] = column
        if name == "person":
            birth = columns["birth_datetime"]
            columns["year_of_birth"] = pc.year(birth).cast(pa.int64())
            columns["month_of_birth"] = pc.month(birth).cast(pa.int64())
            columns["day_of_birth"] = pc.day(birth).cast(pa.int64())
        out[name] = pa.table(columns, schema=rows.schema)
        counters.next_id[name] += len(owner)
    return out


def _table(schema: pa.Schema, n: int, values: dict[str, Any]) -> pa.Table:
    """`n` rows of `schema`: the columns in `values`, nulls elsewhere."""
    arrays = [
        pa.array(values[f.name], type=f.type) if f.name in values else pa.nulls(n, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _days(values: np.ndarray) -> pa.Array:
    """Day numbers since 1970 as a date32 array."""
    return pa.array(values.astype(np.int32)).cast(pa.date32())


def _others(
    seeds: dict[str, SeedTable], persons: np.ndarray, counters: Counters
) -> dict[str, pa.Table]:
    """Person, observation period and death rows of the chunk's persons not in the study."""
    n = len(persons)
    base = (FILLER_START - EPOCH).days
    birth = (dt.date(1940, 1, 1) - EPOCH).days + (persons * 53) % 18_000
    out = {
        "person": _table(
            seeds["person"].rows.schema,
            n,
            {
                "person_id": persons,
                "gender_concept_id": np.where(persons % 2 == 0, 8532, 8507),
                "year_of_birth": [(EPOCH + dt.timedelta(days=int(d))).year for d in birth],
                "month_of_birth": [(EPOCH + dt.timedelta(days=int(d))).month for d in birth],
                "day_of_birth": [(EPOCH + dt.timedelta(days=int(d))).day for d in birth],
                "birth_datetime": (birth.astype(np.int64) * 86_400 * 10**6).astype(
                    "datetime64[us]"
                ),
                "race_concept_id": np.zeros(n, dtype=np.int64),
                "ethnicity_concept_id": np.zeros(n, dtype=np.int64),
            },
        ),
        "observation_period": _table(
            seeds["observation_period"].rows.schema,
            n,
            {
                "observation_period_id": counters.next_id["observation_period"] + np.arange(n),
                "person_id": persons,
                "observation_period_start_date": _days(base + persons % 365),
                "observation_period_end_date": _days(base + FILLER_DAYS + persons % 2000),
                "period_type_concept_id": np.full(n, 32817, dtype=np.int64),
            },
        ),
    }
    counters.next_id["observation_period"] += n
    dead = persons[persons % 20 == 0]
    out["death"] = _table(
        seeds["death"].rows.schema,
        len(dead),
        {
            "person_id": dead,
            "death_date": _days(base + FILLER_DAYS + dead % 2000),
            "death_datetime": ((base + FILLER_DAYS + dead % 2000) * 86_400 * 10**6).astype(
                "datetime64[us]"
            ),
            "death_type_concept_id": np.full(len(dead), 32817, dtype=np.int64),
        },
    )
    return out


def _filler(
    seeds: dict[str, SeedTable], persons: np.ndarray, counters: Counters, lung: int, share: int
) -> dict[str, pa.Table]:
    """Rows of concepts the study never reads for every person of the chunk, dated 2005–2014;
    one non-study person in ten also has a lung condition and carboplatin (no ICI)."""
    base = (FILLER_START - EPOCH).days
    out: dict[str, pa.Table] = {}
    for name, per_person in FILLER.items():
        owner = np.repeat(np.arange(len(persons)), per_person)
        pos = np.tile(np.arange(per_person), len(persons))
        pid = persons[owner]
        n = len(owner)
        ids = counters.next_id[name] + np.arange(n)
        counters.next_id[name] += n
        day = _days(base + (pid * 37 + pos * 113) % FILLER_DAYS)
        pick = (pid + pos) % 5
        chemo = ((pid - 1) % share != 0) & (pid % 10 == 5)
        schema = seeds[name].rows.schema
        if name == "visit_occurrence":
            values = {
                "visit_concept_id": np.where(pos % 3 == 0, 9201, 9202),
                "visit_start_date": day,
                "visit_end_date": day,
                "visit_type_concept_id": np.full(n, 32817),
            }
        elif name == "condition_occurrence":
            concept = np.where(chemo & (pos == 0), lung, OTHER_CONDITIONS[pick])
            values = {
                "condition_concept_id": concept,
                "condition_start_date": day,
                "condition_type_concept_id": np.full(n, 32817),
            }
        elif name == "drug_exposure":
            concept = np.where(chemo & (pos < 4), CARBOPLATIN, OTHER_DRUGS[pick])
            values = {
                "drug_concept_id": concept,
                "drug_exposure_start_date": day,
                "drug_exposure_end_date": day,
                "drug_type_concept_id": np.full(n, 32817),
                "days_supply": np.full(n, 30),
            }
        else:
            values = {
                "measurement_concept_id": OTHER_MEASUREMENTS[pick],
                "measurement_date": day,
                "measurement_type_concept_id": np.full(n, 32817),
                "value_as_number": 50.0 + (pid * 7 + pos * 3) % 100,
                "unit_concept_id": np.zeros(n, dtype=np.int64),
            }
        values |= {f"{name}_id": ids, "person_id": pid}
        out[name] = _table(schema, n, values)
    return out


def chunks(
    persons: int, chunk: int, *, share: int = 10, filler: bool = True
) -> Iterator[dict[str, pa.Table]]:
    """The person tables chunk by chunk (persons 1.., `chunk` persons at a time)."""
    seeds, _ = seed_tables()
    lung = int(seeds["condition_occurrence"].rows.column("condition_concept_id")[0].as_py())
    counters = Counters()
    for first in range(1, persons + 1, chunk):
        ids = np.arange(first, min(first + chunk, persons + 1), dtype=np.int64)
        study = ids[(ids - 1) % share == 0]
        others = ids[(ids - 1) % share != 0]
        parts = [_study_rows(seeds, study, counters, share), _others(seeds, others, counters)]
        if filler:
            parts.append(_filler(seeds, ids, counters, lung, share))
        yield {
            name: _sorted(pa.concat_tables([p[name] for p in parts if name in p]))
            for name in PERSON_TABLES
        }


def _sorted(table: pa.Table) -> pa.Table:
    """Rows by person (stable), as a CDM exported per person would hold them."""
    return table.take(pc.sort_indices(table, [("person_id", "ascending")]))


def write(out: Path, persons: int, chunk: int = 50_000, *, share: int = 10,
          filler: bool = True, duckdb_file: bool = False) -> int:  # fmt: skip
    """Write the CDM to `out` (see the module docstring); the number of person-table rows."""
    out.mkdir(parents=True, exist_ok=True)
    _, vocabulary = seed_tables()
    for name, table in vocabulary.items():
        pq.write_table(table, out / f"{name}.parquet")
    rows = 0
    for i, tables in enumerate(chunks(persons, chunk, share=share, filler=filler)):
        for name, table in tables.items():
            (out / name).mkdir(exist_ok=True)
            pq.write_table(table, out / name / f"part-{i:05d}.parquet")
            rows += table.num_rows
    if duckdb_file:
        _to_duckdb(out)
    return rows


def _to_duckdb(out: Path) -> None:
    """`out/omop.duckdb`, schema cdm, loaded from the Parquet just written (streamed)."""
    import duckdb

    target = out / "omop.duckdb"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute("CREATE SCHEMA cdm")
    for path in sorted(out.iterdir()):
        source = path / "*.parquet" if path.is_dir() else path
        if path.suffix == ".parquet" or path.is_dir():
            name = path.name.split(".")[0]
            con.execute(f"CREATE TABLE cdm.{name} AS SELECT * FROM read_parquet('{source}')")
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--share", type=int, default=10, help="persons per study person")
    parser.add_argument("--no-filler", action="store_true")
    parser.add_argument("--duckdb", action="store_true", help="also write omop.duckdb")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = write(args.out, args.persons, args.chunk, share=args.share,
                 filler=not args.no_filler, duckdb_file=args.duckdb)  # fmt: skip
    took = time.perf_counter() - start
    print(f"{args.persons} persons, {rows} person-table rows in {took:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
