"""The synthetic OMOP CDM at scale (benchmarks/omop_synth.py): scaling, filler, chunks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

pytest.importorskip("ibis", reason="the omop extra (ibis-framework) is not installed")

from benchmarks import omop_synth as S

from rechallenge.sources.omop.settings import OmopSettings
from rechallenge.sources.omop.source import OmopSource

pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

SETTINGS = OmopSettings(pdl1_tps_concept_ids=[2_000_000_002])


def _ordered(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    keys = ["person_id", f"{name}_id"] if f"{name}_id" in frame else ["person_id"]
    return frame.sort_values(keys).reset_index(drop=True)


def test_every_person_in_the_study_and_no_filler_is_generate_build(tmp_path: Path) -> None:
    """share 1 without filler: the tables of generate.build(50), row for row (ids, shifted
    dates, birth year/month/day), though written in chunks of 20 persons."""
    S.write(tmp_path, 50, chunk=20, share=1, filler=False)
    expected = S._generator().build(50)
    for name in S.PERSON_TABLES:
        parts = sorted((tmp_path / name).glob("*.parquet"))
        assert len(parts) == 3
        got = pd.concat([pq.read_table(p).to_pandas() for p in parts])
        frame = S.pa.Table.from_pandas(expected[name], preserve_index=False).to_pandas()
        pd.testing.assert_frame_equal(_ordered(got, name), _ordered(frame, name), obj=name)


def test_filler_and_non_study_persons_leave_the_study_tables_unchanged(tmp_path: Path) -> None:
    """share 4 with filler: the reader screens exactly the study persons and builds the same
    tables as for generate.build(25), person ids aside."""
    rows = S.write(tmp_path / "big", 100, chunk=30, share=4)
    assert rows >= 100 * 100  # ~100 rows per person
    alone = tmp_path / "alone"
    S.write(alone, 25, chunk=25, share=1, filler=False)
    big = OmopSource(tmp_path / "big", settings=SETTINGS).read()
    small = OmopSource(alone, settings=SETTINGS).read()
    assert set(big.tables) == set(small.tables)
    to_small = {str((j - 1) * 4 + 1): str(j) for j in range(1, 26)}
    for name, table in small.tables.items():
        cells = big.tables[name].cells.copy()
        assert set(cells["patient_id"]) <= set(to_small)
        cells["patient_id"] = cells["patient_id"].map(to_small)
        pd.testing.assert_frame_equal(cells, table.cells, obj=name)
    assert len(small.tables["patients"].cells) > 0


def test_memory_is_bounded_by_the_chunk() -> None:
    """Each chunk holds only its own persons' rows."""
    sizes = [sum(t.num_rows for t in chunk.values()) for chunk in S.chunks(120, 40, share=10)]
    assert len(sizes) == 3
    assert max(sizes) < 1.2 * min(sizes)
    assert 40 * 95 < min(sizes) < 40 * 125


def test_date_shifts_cycle_so_every_date_stays_holdable() -> None:
    """Study person 240,001 (24 seeds x 10,000 weeks later) repeats person 1's dates; the
    latest shift keeps every date before 2262 (a datetime64[ns] column's last day)."""
    seeds, _ = S.seed_tables()
    ids = S.np.array([1, S.SEEDS * S.WEEKS + 1, S.SEEDS * S.WEEKS])
    rows = S._study_rows(seeds, ids, S.Counters(), share=1)["drug_exposure"].to_pandas()
    first = rows.loc[rows["person_id"] == ids[0], "drug_exposure_start_date"].tolist()
    again = rows.loc[rows["person_id"] == ids[1], "drug_exposure_start_date"].tolist()
    assert first == again
    latest = rows.loc[rows["person_id"] == ids[2], "drug_exposure_start_date"].max()
    assert pd.Timestamp(latest) < pd.Timestamp("2262-04-11")
    assert pd.Timestamp(latest) > pd.Timestamp(first[0]) + pd.Timedelta(days=7 * 9_000)
