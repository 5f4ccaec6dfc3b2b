"""ICI courses: initial, interim, rechallenge, from line order and progression."""

import pandas as pd
import pytest

from rechallenge.rules.courses import course_table, label_courses


def lines(*specs: tuple[bool, str | None]) -> pd.DataFrame:
    """One patient's lines: (is ICI, end reason)."""
    return pd.DataFrame({
        "patient_id": "A", "line": range(1, len(specs) + 1),
        "is_pd1_axis": [s[0] for s in specs], "end_reason": [s[1] for s in specs],
        "progression_date": pd.NaT,
        "start_date": pd.date_range("2021-01-01", periods=len(specs), freq="90D"),
        "last_dose_date": pd.NaT, "ecog": 1, "best_response": None, "agent_inns": [()] * len(specs),
    })  # fmt: skip


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        # chemo, ICI, chemo, ICI: the classic rechallenge after interim chemotherapy
        ([(False, "progression"), (True, "progression"), (False, "progression"), (True, None)],
         ["prior", "initial", "interim", "rechallenge"]),
        # ICI straight after ICI progression: rechallenge without interim therapy
        ([(True, "progression"), (True, "ongoing")], ["initial", "rechallenge"]),
        # ICI stopped for toxicity, then another ICI with no progression: a switch, not rechallenge
        ([(True, "toxicity"), (True, "progression")], ["initial", "ici_switch"]),
        # progression on interim chemotherapy also opens the way to rechallenge
        ([(True, "completed"), (False, "progression"), (True, None)],
         ["initial", "interim", "rechallenge"]),
        # lines after the rechallenge are later therapy
        ([(True, "progression"), (True, "progression"), (False, None)],
         ["initial", "rechallenge", "later"]),
        # no ICI at all
        ([(False, "progression")], ["prior"]),
    ],
)  # fmt: skip
def test_course_labels(specs: list[tuple[bool, str | None]], expected: list[str]) -> None:
    assert label_courses(lines(*specs)).tolist() == expected


def test_course_table_has_one_row_per_patient() -> None:
    table = course_table(lines((True, "progression"), (False, "progression"), (True, None)))
    (row,) = table.to_dict(orient="records")
    assert (row["initial_line"], row["rechallenge_line"], row["interim_lines"]) == (1, 3, (2,))
    assert row["has_rechallenge"]
    assert row["initial_next_line_start"] == pd.Timestamp("2021-04-01")
