"""OMOP cohort extraction at scale: DuckDB vs its scan floor vs pandas; PySpark local[2].

    python -m benchmarks.bench_omop                        # 10^5 persons, DuckDB + Spark
    python -m benchmarks.bench_omop --persons 100000 1000000 --spark-persons 100000

Data: benchmarks/omop_synth.py (one study person in ten, ~100 rows per person), written
once per size under --data (default /tmp/rechallenge-omop-bench) and reused. Every timing
runs in a child process of its own, which also reports its peak resident memory
(`resource.getrusage` maxrss), so one measurement's caches never help the next.

- `floor`: one DuckDB query of `count(*)` over the person tables the extraction reads
  (Parquet keeps row counts in its footers, so this reads little), and a second floor that
  reads the columns the screening touches (`count` of person, concept and date columns).
- `extract`: the pushed-down part of `OmopSource.read()`: the Ibis queries (vocabulary,
  screening, the screened persons' rows of each table) run and returned as Arrow tables.
- `read`: the whole `OmopSource.read()`: the queries plus building our data-model tables
  (lines of therapy, outcomes, text cells) in pandas.
- `pandas`: the naive baseline: pandas reads the same tables (the columns the extraction
  selects), screens with pandas (NSCLC concept set and anti-PD-(L)1 exposure by the same
  vocabulary) and keeps the screened persons' rows.
- `spark`: `read()` on a local[2] Spark session over the same Parquet, for each
  `spark.sql.shuffle.partitions` in --partitions (session start-up timed apart).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rechallenge.sources.omop.extract import READ_COLUMNS

RESULTS = Path(__file__).resolve().parent / "results" / "omop.md"
PERSON_TABLES = {
    "person": ["person_id"],
    "condition_occurrence": ["person_id", "condition_concept_id", "condition_start_date"],
    "drug_exposure": ["person_id", "drug_concept_id", "drug_exposure_start_date"],
    "measurement": ["person_id", "measurement_concept_id", "measurement_date"],
    "observation": ["person_id", "observation_concept_id", "observation_date"],
    "episode": ["person_id", "episode_concept_id", "episode_start_date"],
    "death": ["person_id", "death_date"],
    "visit_occurrence": ["person_id", "visit_start_date"],
    "observation_period": ["person_id", "observation_period_end_date"],
}
# The columns the extraction selects per table (extract.py), for the pandas baseline.
PANDAS_COLUMNS = {
    **READ_COLUMNS,
    "episode": ["person_id", "episode_concept_id", "episode_start_date"],
    "death": None,
    "person": None,
    "visit_occurrence": ["person_id", "visit_start_date"],
    "observation_period": ["person_id", "observation_period_end_date"],
}
PDL1 = 2_000_000_002  # the generator's site-local PD-L1 TPS concept


def _settings() -> Any:
    from rechallenge.sources.omop.settings import OmopSettings

    return OmopSettings(pdl1_tps_concept_ids=[PDL1])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child tasks ----------------------------------------------------------------------


def task_floor(folder: Path) -> dict[str, Any]:
    """Both DuckDB floors over the same Parquet folders."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")

    def scan(name: str) -> str:
        return f"read_parquet('{folder / name}/*.parquet')"

    counts = " + ".join(f"(SELECT count(*) FROM {scan(n)})" for n in PERSON_TABLES)
    columns = " + ".join(
        f"(SELECT {' + '.join(f'count({c})' for c in cols)} FROM {scan(n)})"
        for n, cols in PERSON_TABLES.items()
    )
    out: dict[str, Any] = {}
    for label, sql in {"count": counts, "columns": columns}.items():
        start = time.perf_counter()
        rows = con.execute(f"SELECT {sql}").fetchone()
        out[label] = time.perf_counter() - start
        out[f"{label}_value"] = int(rows[0]) if rows else 0
    return out


def task_extract(folder: Path) -> dict[str, Any]:
    """The Ibis queries of `read()` only, each result fetched as Arrow."""
    import ibis

    from rechallenge.sources.omop import extract as X
    from rechallenge.sources.omop.connect import connect

    start = time.perf_counter()
    cdm = connect(folder, None, None)
    cdm.backend.raw_sql("SET enable_progress_bar = false")
    connected = time.perf_counter()
    settings = _settings()
    vocab = X.resolve_vocabulary(cdm)
    timings: dict[str, float] = {}

    def run(label: str, expr: Any) -> Any:
        began = time.perf_counter()
        table = expr.to_pyarrow()
        timings[label] = time.perf_counter() - began
        return table

    ids = run("screening", X.screened_persons(cdm, vocab))
    persons = ibis.memtable(ids.to_pandas())
    # the queries of `OmopSource.read()`: each table's rows with its latest dates
    run("drug_exposure", X.screened_drugs(cdm, vocab, persons))
    run("person", X.screened(cdm.table("person"), persons))
    run("condition_occurrence", X.screened_conditions(cdm, vocab, persons))
    run("death", X.screened(cdm.table("death"), persons))
    from rechallenge.sources.omop import concepts as C

    ids_m = [*C.LAB_TESTS, *C.METASTASIS, *C.DRIVER_GENES, *vocab.ecog, *vocab.stages, PDL1]
    run("measurement", X.measurements(cdm, persons, ids_m, latest=True))
    run("observation", X.observations(cdm, persons, latest=True))
    run("episode", X.episodes(cdm, persons))
    run("visit_occurrence", X.latest_dates(cdm, persons, "visit_occurrence"))
    if settings.last_contact == "op_end":
        run("observation_period", X.observation_ends(cdm, persons))
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "connect": connected - start,
        "after_connect": end - connected,
        "screened": ids.num_rows,
        "queries": timings,
    }


def task_read(folder: Path) -> dict[str, Any]:
    """The whole `OmopSource.read()` on DuckDB."""
    from rechallenge.sources.omop.source import OmopSource

    start = time.perf_counter()
    raw = OmopSource(folder, settings=_settings()).read()
    return {
        "seconds": time.perf_counter() - start,
        "screened": len(raw.tables["patients"].cells),
    }


def task_pandas(folder: Path) -> dict[str, Any]:
    """Load with pandas, screen with pandas, keep the screened persons' rows."""
    import pandas as pd

    from rechallenge.data.drugs import load_dictionary, normalise_name
    from rechallenge.sources.omop import concepts as C
    from rechallenge.sources.omop.extract import ICDO3_LUNG

    start = time.perf_counter()
    concept = pd.read_parquet(folder / "concept.parquet")
    ancestor = pd.read_parquet(folder / "concept_ancestor.parquet")
    dictionary = load_dictionary()
    pd1_inns = {d.inn for d in dictionary.drugs if d.pd1_axis}
    ingredients = concept[
        (concept["concept_class_id"] == "Ingredient")
        & concept["vocabulary_id"].isin(["RxNorm", "RxNorm Extension"])
    ]
    pd1_ids = {
        int(r.concept_id)
        for r in ingredients.itertuples()
        if (C.INGREDIENTS.get(int(r.concept_id)) or str(r.concept_name).lower()) in pd1_inns
    }
    pd1_drugs = set(
        ancestor.loc[ancestor["ancestor_concept_id"].isin(pd1_ids), "descendant_concept_id"]
    )
    lung = set(
        ancestor.loc[ancestor["ancestor_concept_id"] == C.NSCLC_ROOT, "descendant_concept_id"]
    )
    icdo3 = concept[
        (concept["vocabulary_id"] == "ICDO3") & concept["concept_code"].str.contains(ICDO3_LUNG)
    ]
    lung |= {*C.HISTOLOGY, C.SMALL_CELL, *icdo3["concept_id"]}
    pd1_names = {k for k, d in dictionary.index.items() if d.pd1_axis and normalise_name(k) == k}
    tables = {
        name: pd.read_parquet(folder / name, columns=columns)
        for name, columns in PANDAS_COLUMNS.items()
    }
    loaded = time.perf_counter() - start
    condition, drugs = tables["condition_occurrence"], tables["drug_exposure"]
    with_cancer = set(condition.loc[condition["condition_concept_id"].isin(lung), "person_id"])
    by_name = (drugs["drug_concept_id"] == 0) & drugs[
        "drug_source_value"
    ].str.lower().str.strip().isin(pd1_names)
    ici = set(drugs.loc[drugs["drug_concept_id"].isin(pd1_drugs) | by_name, "person_id"])
    screened = with_cancer & ici
    kept = {name: t[t["person_id"].isin(screened)] for name, t in tables.items()}
    return {
        "seconds": time.perf_counter() - start,
        "load": loaded,
        "screened": len(screened),
        "rows_kept": sum(len(t) for t in kept.values()),
    }


def task_spark(folder: Path, partitions: int) -> dict[str, Any]:
    """`read()` on a local[2] Spark session with `partitions` shuffle partitions."""
    from rechallenge.sources.omop.connect import spark_cdm
    from rechallenge.sources.omop.source import OmopSource
    from rechallenge.sources.omop.spark_settings import SparkSettings

    start = time.perf_counter()
    conf = {"spark.sql.shuffle.partitions": str(partitions), "spark.driver.memory": "4g"}
    cdm = spark_cdm(folder, None, SparkSettings(master="local[2]", conf=conf))
    session = time.perf_counter() - start
    start = time.perf_counter()
    raw = OmopSource(None, settings=_settings(), cdm=cdm).read()
    seconds = time.perf_counter() - start
    cdm.backend.disconnect()
    return {
        "seconds": seconds,
        "session": session,
        "screened": len(raw.tables["patients"].cells),
    }


def _child(task: str, folder: Path, partitions: int) -> None:
    import warnings

    warnings.simplefilter("ignore")
    if task == "spark":
        out = task_spark(folder, partitions)
    else:
        out = {"floor": task_floor, "extract": task_extract, "read": task_read,
               "pandas": task_pandas}[task](folder)  # fmt: skip
    out["peak_mb"] = _peak_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu"] = usage.ru_utime + usage.ru_stime  # the whole child, every engine thread
    print("RESULT " + json.dumps(out))


# --- parent ---------------------------------------------------------------------------


def _run(task: str, folder: Path, partitions: int = 0, timeout: int = 3600) -> dict[str, Any]:
    """One task in a fresh interpreter; its RESULT line as a dict (or the failure)."""
    command = [sys.executable, "-m", "benchmarks.bench_omop", "--child", task, "--data",
               str(folder), "--partition", str(partitions)]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}


def _data(root: Path, persons: int) -> tuple[Path, float | None]:
    """The synthetic CDM of `persons` persons under `root` (generated when absent)."""
    from benchmarks import omop_synth

    folder = root / f"persons-{persons}"
    if (folder / "person").is_dir():
        return folder, None  # reused: not timed
    start = time.perf_counter()
    omop_synth.write(folder, persons)
    return folder, time.perf_counter() - start


def _best(task: str, folder: Path, repeat: int, partitions: int = 0) -> dict[str, Any]:
    runs = [_run(task, folder, partitions) for _ in range(repeat)]
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    key = "count" if task == "floor" else "seconds"
    best = min(ok, key=lambda r: r[key])
    best["peak_mb"] = max(r["peak_mb"] for r in ok)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000])
    parser.add_argument("--spark-persons", type=int, nargs="*", default=[100_000])
    parser.add_argument("--partitions", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/rechallenge-omop-bench"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--child")
    parser.add_argument("--partition", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.data, args.partition)
        return
    rows: list[dict[str, Any]] = []
    for persons in sorted(set(args.persons) | set(args.spark_persons)):
        folder, generated = _data(args.data, persons)
        repeat = args.repeat if persons < 1_000_000 else 1
        row: dict[str, Any] = {"persons": persons, "generated": generated}
        if persons in args.persons:
            for task in ("floor", "extract", "read", "pandas"):
                row[task] = _best(task, folder, repeat)
                print(persons, task, json.dumps(row[task]), flush=True)
        if persons in args.spark_persons:
            for p in args.partitions:
                row[f"spark{p}"] = _run("spark", folder, p)
                print(persons, f"spark p={p}", json.dumps(row[f"spark{p}"]), flush=True)
        rows.append(row)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    raw = args.results.with_suffix(".json")
    raw.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    table = args.results.with_suffix(".table.md")
    table.write_text(markdown(rows), encoding="utf-8")
    print(f"results -> {raw}, {table} ({platform.machine()})")


def _s(result: dict[str, Any] | None, key: str = "seconds") -> str:
    if not result or ("error" not in result and key not in result):
        return "–"
    if "error" in result:
        return "failed"
    return f"{result[key]:.2f} s"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The measured table: one row per size, seconds and peak memory per task."""
    lines = [
        "| persons | rows | screened | floor count(*) | floor columns | extract (queries) "
        "| extract + connect | read() | pandas | peak MB extract / read / pandas |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "floor" not in row:
            continue
        f, e, r, p = row["floor"], row["extract"], row["read"], row["pandas"]
        peaks = " / ".join(f"{x.get('peak_mb', 0):.0f}" for x in (e, r, p))
        lines.append(
            f"| {row['persons']:,} | {f.get('count_value', 0):,} | {e.get('screened', '–')} "
            f"| {_s(f, 'count')} | {_s(f, 'columns')} | {_s(e, 'after_connect')} | {_s(e)} "
            f"| {_s(r)} | {_s(p)} | {peaks} |"
        )
    spark = [row for row in rows if any(k.startswith("spark") for k in row)]
    if spark:
        lines += [
            "",
            "| persons | shuffle partitions | session start | read() | peak MB (Python) |",
            "|---|---|---|---|---|",
        ]
        for row in spark:
            for key in sorted((k for k in row if k.startswith("spark")), key=lambda k: int(k[5:])):
                res = row[key]
                lines.append(
                    f"| {row['persons']:,} | {key[5:]} | {_s(res, 'session')} | {_s(res)} "
                    f"| {res.get('peak_mb', 0):.0f} |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
