"""Random malformed tables either load or raise the project's own error, never anything else."""

from __future__ import annotations

import tempfile
from pathlib import Path

from datafactory import VALID, copy_tables, write_study
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rechallenge.data.validate import load_study
from rechallenge.errors import RechallengeError

CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NA", "1e400", "-0", "2020-02-30", "2021", "45123", "男", "=1+1", "\x00"]),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True).map(str),
)
EDITS = st.lists(
    st.tuples(
        st.sampled_from(sorted(VALID)),
        st.integers(0, 3),
        st.sampled_from(sorted({k for rows in VALID.values() for k in rows[0]})),
        CELLS,
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_loader_never_crashes(edits: list[tuple[str, int, str, str]]) -> None:
    tables = copy_tables()
    for table, index, column, value in edits:
        rows = tables[table]
        if column in rows[0]:
            rows[index % len(rows)][column] = value.replace("\x00", "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_study(Path(tmp) / "s", tables)
        try:
            study = load_study(folder)
        except RechallengeError:
            return
        assert len(study.patients) == len(tables["patients"])  # no row dropped
