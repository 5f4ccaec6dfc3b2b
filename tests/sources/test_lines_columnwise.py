"""The column-wise line-of-therapy rule against a per-person walk of the same five steps.

`walk` below is the rule as the reference states it (one person, one administration date at
a time); `assign_lines` computes it in rounds over the whole table. Random cohorts with long
pauses, substitutions, gap-exempt drugs, repeated drugs on a date and blank stop reasons
must give the same lines, field for field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from rechallenge.sources.omop.lines import assign_lines
from rechallenge.sources.omop.settings import LineRules

DRUGS = [
    "pembrolizumab",
    "nivolumab",
    "carboplatin",
    "cisplatin",
    "pemetrexed",
    "paclitaxel",
    "nab-paclitaxel",
    "docetaxel",
    "osimertinib",
    "erlotinib",
]
REASONS = [None, None, None, "", "  ", "progression", " toxicity ", "completed"]


@dataclass
class Line:
    person_id: int
    number: int
    start: dt.date
    last_dose: dt.date
    regimen: set[str] = field(default_factory=set)
    agents: list[str] = field(default_factory=list)
    stop_reason: str | None = None


def walk(frame: pd.DataFrame, rules: LineRules) -> pd.DataFrame:
    """Steps 1-5 person by person, date by date (the reference's statement of the rule)."""
    partners: dict[str, set[str]] = {}
    for a, b in rules.substitutions:
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    window = dt.timedelta(days=rules.regimen_window_days)
    gap = dt.timedelta(days=rules.gap_days)
    exempt = set(rules.gap_exempt)
    rows = []
    frame = frame.assign(date=pd.to_datetime(frame["date"]).dt.date)
    for person, doses in frame.sort_values(["person_id", "date", "inn"], kind="stable").groupby(
        "person_id", sort=True
    ):
        by_date: dict[dt.date, list[tuple[str, object]]] = {}
        for inn, date, reason in zip(
            doses["inn"], doses["date"], doses["stop_reason"], strict=True
        ):
            by_date.setdefault(date, []).append((inn, reason))
        lines: list[Line] = []
        for date, given in by_date.items():
            line = lines[-1] if lines else None
            if line is not None and date - line.last_dose > gap and not line.regimen <= exempt:
                line = None
            if line is not None and date > line.start + window:
                new = {inn for inn, _ in given if inn not in line.regimen}
                if any(not partners.get(inn, set()) & line.regimen for inn in new):
                    line = None
                else:
                    line.regimen |= new
            if line is None:
                line = Line(int(person), len(lines) + 1, date, date)
                lines.append(line)
            for inn, reason in given:
                if date <= line.start + window:
                    line.regimen.add(inn)
                if inn not in line.agents:
                    line.agents.append(inn)
                if isinstance(reason, str) and reason.strip():
                    line.stop_reason = reason.strip()
            line.last_dose = max(line.last_dose, date)
        rows += [
            (x.person_id, x.number, x.start, x.last_dose, tuple(x.agents), x.stop_reason)
            for x in lines
        ]
    return pd.DataFrame(
        rows,
        columns=["person_id", "line", "start_date", "last_dose_date", "agents", "stop_reason"],
    )


def cohort(seed: int, persons: int = 400) -> pd.DataFrame:
    """Random administrations: cycles of 1-4 drugs, with pauses of up to a year."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in rng.permutation(persons) + 1:
        day = dt.date(2020, 1, 1) + dt.timedelta(days=int(rng.integers(0, 400)))
        for _ in range(int(rng.integers(1, 30))):
            k = int(rng.integers(1, 5))
            for inn in rng.choice(DRUGS, size=k, replace=True):  # repeats on a date too
                rows.append((int(person), day, str(inn), REASONS[rng.integers(len(REASONS))]))
            day += dt.timedelta(days=int(rng.choice([0, 1, 7, 14, 21, 28, 29, 60, 150, 200])))
    return pd.DataFrame(rows, columns=["person_id", "date", "inn", "stop_reason"])


RULES = [
    LineRules(),
    LineRules(regimen_window_days=0, gap_days=30),
    LineRules(
        regimen_window_days=10,
        gap_days=60,
        substitutions=[("cisplatin", "carboplatin"), ("pembrolizumab", "nivolumab")],
        gap_exempt=["osimertinib", "erlotinib", "pembrolizumab"],
    ),
    LineRules(substitutions=[], gap_exempt=[]),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rules", RULES, ids=["default", "tight", "substitutes", "none"])
def test_columnwise_lines_equal_the_walk(seed: int, rules: LineRules) -> None:
    doses = cohort(seed)
    got = assign_lines(doses, rules).drop(columns="line_source")
    expected = walk(doses, rules)
    assert len(expected) > 400  # the cohorts do have several lines per person
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_one_date_with_a_new_drug_moves_all_its_drugs_to_the_new_line() -> None:
    doses = pd.DataFrame(
        {
            "person_id": [7, 7, 7, 7],
            "date": ["2021-01-01", "2021-03-01", "2021-03-01", "2021-03-01"],
            "inn": ["pembrolizumab", "pembrolizumab", "docetaxel", "docetaxel"],
        }
    )
    lines = assign_lines(doses, LineRules())
    assert [tuple(a) for a in lines["agents"]] == [
        ("pembrolizumab",),
        ("docetaxel", "pembrolizumab"),
    ]
    assert list(lines["start_date"].astype(str)) == ["2021-01-01", "2021-03-01"]
    assert list(lines["stop_reason"]) == [None, None]


def test_distinct_is_numpys_sorted_unique() -> None:
    from rechallenge.sources.omop.lines import _distinct

    rng = np.random.default_rng(5)
    for values in (rng.integers(0, 50, 1_000), np.sort(rng.integers(0, 10**9, 5_000)), []):
        array = np.asarray(values, dtype="int64")
        np.testing.assert_array_equal(_distinct(array), np.unique(array))


def test_previous_same_agent_equals_a_lexsort_by_agent_then_group() -> None:
    """`_previous_same` sorts by agent alone (the pairs ascend by group): the same answer
    as sorting by (agent, group) on random distinct pairs."""
    from rechallenge.sources.omop.lines import _previous_same

    rng = np.random.default_rng(1)
    for _ in range(200):
        agents = int(rng.integers(1, 6))
        key = np.unique(rng.integers(0, 60 * agents, int(rng.integers(0, 300))))
        group, agent = key // agents, key % agents
        order = np.lexsort((group, agent))
        expected = np.full(len(group), -1)
        same = agent[order[1:]] == agent[order[:-1]]
        expected[order[1:][same]] = group[order[:-1][same]]
        assert (_previous_same(group, agent) == expected).all()
