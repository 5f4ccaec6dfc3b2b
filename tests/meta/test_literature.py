"""examples/literature: every number has a source, counts match the published percentages,
intervals are ordered, and the file pools with the meta-analysis commands."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from rechallenge.stats.meta import meta_medians, meta_proportions

FILE = Path(__file__).resolve().parents[2] / "examples" / "literature" / "rechallenge_nsclc.csv"
SEED_DOIS = {
    18: "10.1007/s00280-018-3585-9",
    19: "10.1093/jjco/hyz066",
    20: "10.3390/jcm9010102",
    21: "10.1111/1759-7714.13241",
    22: "10.1007/s00432-021-03901-2",
    23: "10.21037/jtd-23-1767",
    24: "10.1038/s41598-024-52034-2",
    25: "10.1002/cam4.5939",
    26: "10.1007/s10637-024-01483-7",
    27: "10.37349/etat.2024.00275",
}
SOURCES = {
    "n": "source_n",
    "orr_events": "source_orr",
    "dcr_events": "source_dcr",
    "pfs_median": "source_pfs",
    "os_median": "source_os",
}


@pytest.fixture(scope="module")
def lit() -> pd.DataFrame:
    return pd.read_csv(FILE)


def test_the_seed_table_5_studies_are_all_listed(lit: pd.DataFrame) -> None:
    seed = lit.dropna(subset=["seed_ref"])
    assert {int(r): d for r, d in zip(seed["seed_ref"], seed["doi"], strict=True)} == SEED_DOIS


@pytest.mark.parametrize(("value", "source"), SOURCES.items())
def test_every_number_has_a_quoted_source(lit: pd.DataFrame, value: str, source: str) -> None:
    for _, row in lit.iterrows():
        if pd.isna(row[value]):
            assert row[source] == "not verified" or "OS was immature" in str(row[source])
        else:
            assert str(row[source]).startswith(("Abstract:", "Xu Z et al.")), row["study"]


@pytest.mark.parametrize("column", ["orr_events", "dcr_events"])
def test_counts_give_the_published_percentage(lit: pd.DataFrame, column: str) -> None:
    source = SOURCES[column]
    for _, row in lit.dropna(subset=[column]).iterrows():
        pct = float(re.findall(r"(\d+\.\d)%", row[source])[0])
        matches = [k for k in range(int(row["n"]) + 1) if round(100 * k / row["n"], 1) == pct]
        assert matches == [int(row[column])], row["study"]  # the only count that fits


def test_intervals_are_ordered(lit: pd.DataFrame) -> None:
    for stem in ("pfs", "os"):
        d = lit.dropna(subset=[f"{stem}_median"])
        assert (d[f"{stem}_lower"] < d[f"{stem}_median"]).all()
        assert (d[f"{stem}_median"] < d[f"{stem}_upper"]).all()
        assert set(d["time_unit"]) <= {"months", "days"}


def test_the_file_pools(lit: pd.DataFrame) -> None:
    orr = lit.dropna(subset=["orr_events", "n"])
    res = meta_proportions(orr["orr_events"], orr["n"], study=list(orr["study"]))
    assert res.fit.k == 3 and 0 < res.pooled < 0.2
    pfs = lit.dropna(subset=["pfs_median", "pfs_lower", "pfs_upper"])
    scale = pfs["time_unit"].map({"months": 1.0, "days": 12 / 365.25})
    med = meta_medians(
        pfs["pfs_median"] * scale, pfs["pfs_lower"] * scale, pfs["pfs_upper"] * scale
    )
    assert med.fit.k == 4 and 1.5 < med.pooled < 6.8
