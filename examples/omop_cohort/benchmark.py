"""Time the OMOP extraction (source.read(): screening pushed down, tables built) per engine.

    python examples/omop_cohort/benchmark.py --persons 10000 [--pg-url postgresql://…]

Writes a scaled synthetic CDM (generate.py) to a temporary folder, then reads it from the
DuckDB file, the Parquet folder and, with --pg-url, PostgreSQL (seeded first, not timed).
Prints seconds per engine (best of --repeat runs) and the screened persons.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from rechallenge.sources.omop.source import OmopSource

HERE = Path(__file__).resolve().parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("omop_generate", HERE / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["omop_generate"] = module
    spec.loader.exec_module(module)
    return module


def _seed(url: str, parquet: Path) -> None:
    import ibis

    con = ibis.connect(url)
    con.raw_sql("DROP SCHEMA IF EXISTS cdm CASCADE")
    con.raw_sql("CREATE SCHEMA cdm")
    for path in sorted(parquet.glob("*.parquet")):
        con.create_table(path.stem, obj=pd.read_parquet(path), database="cdm")
    con.disconnect()


def _time(make: object, repeat: int) -> tuple[float, int]:
    best, persons = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        raw = make().read()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
        persons = len(raw.tables["patients"].cells)
    return best, persons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--pg-url")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    gen = _generator()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        frames = gen.build(args.persons)
        gen.write(frames, out)
        rows = sum(len(f) for n, f in frames.items() if not n.startswith("_"))
        took = time.perf_counter() - start
        print(f"generated {args.persons} persons, {rows} rows in {took:.1f} s")
        engines = {
            "duckdb file": lambda: OmopSource(out / "omop.duckdb"),
            "parquet folder": lambda: OmopSource(out / "parquet"),
        }
        if args.pg_url:
            _seed(args.pg_url, out / "parquet")
            engines["postgresql"] = lambda: OmopSource(None, database=args.pg_url, schema="cdm")
        for name, make in engines.items():
            seconds, persons = _time(make, args.repeat)
            print(f"{name:15s} {seconds:7.2f} s  screened persons {persons}")


if __name__ == "__main__":
    main()
