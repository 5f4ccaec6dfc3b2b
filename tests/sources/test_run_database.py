"""`rechallenge run --database URL --schema S --out RES` on a real PostgreSQL server.

The example cohort's synthetic OMOP CDM is loaded into a throwaway cluster (conftest.py);
the run must give the CSV run's cohort and survival, and no password may reach any file of
the output folder (the run folder marker records the source without it).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest

pytest.importorskip("ibis", reason="the omop extra (ibis-framework) is not installed")

from rechallenge.pipeline import redact_url

pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

ROOT = Path(__file__).resolve().parents[2]
PDL1 = 2_000_000_002  # the generator's site-local PD-L1 TPS concept
PASSWORD = "s3cret-Pa55"  # the test cluster trusts every login, so any password connects


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "omop_generate_db", ROOT / "examples" / "omop_cohort" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["omop_generate_db"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cdm_url(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The server's URL with a password, schema `cdm` holding the synthetic CDM."""
    import ibis

    out = tmp_path_factory.mktemp("omop_db")
    gen = _generator()
    gen.write(gen.build(), out)
    con = ibis.connect(pg_url)
    con.raw_sql("DROP SCHEMA IF EXISTS cdm CASCADE")
    con.raw_sql("CREATE SCHEMA cdm")
    for path in sorted((out / "parquet").glob("*.parquet")):
        con.create_table(path.stem, obj=pd.read_parquet(path), database="cdm")
    con.disconnect()
    parts = urlsplit(pg_url)
    netloc = f"{parts.username}:{PASSWORD}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from rechallenge.cli import app

    return CliRunner().invoke(app, list(args))


def test_redact_url_drops_only_the_password() -> None:
    assert redact_url("postgresql://me:pw@db.example:5433/omop?sslmode=require") == (
        "postgresql://me@db.example:5433/omop?sslmode=require"
    )
    assert redact_url("postgresql://me@db/omop") == "postgresql://me@db/omop"
    assert redact_url("sc://spark-host:15002") == "sc://spark-host:15002"


def test_run_database_writes_the_study_and_no_password(cdm_url: str, tmp_path: Path) -> None:
    config = tmp_path / "study.yaml"
    config.write_text(f"omop:\n  pdl1_tps_concept_ids: [{PDL1}]\n", encoding="utf-8")
    out = tmp_path / "res"
    result = _cli(
        "run",
        "--database",
        cdm_url,
        "--schema",
        "cdm",
        "--out",
        str(out),
        "--config",
        str(config),
    )
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert sum(bool(p.get("included")) for p in results["cohort"]["patients"]) == 13
    assert results["cohort"]["screened"] == 24
    marker = json.loads((out / ".rechallenge-run.json").read_text(encoding="utf-8"))
    assert marker["status"] == "complete"
    assert marker["source"]["kind"] == "database"
    assert marker["source"]["schema"] == "cdm"
    assert marker["source"]["location"] == redact_url(cdm_url)
    assert PASSWORD not in result.output
    for path in out.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path.name


def test_run_database_on_a_wrong_schema_fails_without_a_complete_folder(
    cdm_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "res"
    result = _cli("run", "--database", cdm_url, "--schema", "nope", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "OMOP-101" in result.output
    marker = json.loads((out / ".rechallenge-run.json").read_text(encoding="utf-8"))
    assert marker["status"] == "failed"
    assert sorted(p.name for p in out.iterdir()) == [".rechallenge-run.json", "problems.csv"]
    assert PASSWORD not in (out / ".rechallenge-run.json").read_text(encoding="utf-8")
