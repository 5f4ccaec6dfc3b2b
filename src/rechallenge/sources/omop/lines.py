"""Lines of therapy from ingredient-level administrations (reference §2, option A).

Input: one row per (person, ingredient INN, administration date); start dates only, since
OMOP end dates are mostly imputed (reference §6.1). For each person, administrations are
walked in date order:

1. The first administration starts line 1.
2. Drugs first given no later than line start + `regimen_window_days` join the line's regimen.
3. A drug outside the regimen given after the window starts a new line on that date, unless
   it substitutes for a regimen drug (`substitutions`, both directions): then it joins the
   line's agents. Dropping a drug never starts a line (continuation maintenance).
4. A pause longer than `gap_days` since the line's last administration starts a new line,
   unless every regimen drug is in `gap_exempt`.
5. A line's agents are the union of its ingredients; its last dose is its last
   administration date; its stop reason is the last non-blank `stop_reason` on it.

Each line records its rule source, `derived:lot_rule_A`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from rechallenge.sources.omop.settings import LineRules

LINE_SOURCE = "derived:lot_rule_A"


@dataclass
class Line:
    """One line of therapy of one person, as the walk builds it."""

    person_id: int
    number: int
    start: dt.date
    last_dose: dt.date
    regimen: set[str] = field(default_factory=set)
    agents: list[str] = field(default_factory=list)
    stop_reason: str | None = None

    def add(self, inn: str) -> None:
        """Record `inn` among the line's agents (first-given order)."""
        if inn not in self.agents:
            self.agents.append(inn)


def assign_lines(administrations: pd.DataFrame, rules: LineRules) -> pd.DataFrame:
    """Lines of therapy: one row per (person, line) with start, last dose, agents, stop reason.

    `administrations` has columns person_id, inn, date (datetime-like) and optionally
    stop_reason. Returned columns: person_id, line, start_date, last_dose_date, agents
    (tuple of INNs in first-given order), stop_reason, line_source.
    """
    columns = ["person_id", "line", "start_date", "last_dose_date", "agents", "stop_reason"]
    if administrations.empty:
        return pd.DataFrame(columns=[*columns, "line_source"])
    frame = administrations.assign(date=pd.to_datetime(administrations["date"]).dt.date)
    if "stop_reason" not in frame:
        frame = frame.assign(stop_reason=None)
    frame = frame.sort_values(["person_id", "date", "inn"], kind="stable")
    partners = _partners(rules.substitutions)
    rows: list[dict[str, object]] = []
    people = frame["person_id"].astype("int64").tolist()
    records = list(zip(frame["inn"], frame["date"], frame["stop_reason"], strict=True))
    begin = 0
    for end in range(1, len(people) + 1):  # one person's administrations at a time
        if end < len(people) and people[end] == people[begin]:
            continue
        for line in _walk(people[begin], records[begin:end], rules, partners):
            rows.append(
                {
                    "person_id": line.person_id,
                    "line": line.number,
                    "start_date": line.start,
                    "last_dose_date": line.last_dose,
                    "agents": tuple(line.agents),
                    "stop_reason": line.stop_reason,
                }
            )
        begin = end
    return pd.DataFrame(rows, columns=columns).assign(line_source=LINE_SOURCE)


def _partners(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Substitution partners of each INN, both directions."""
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def _walk(
    person_id: int,
    rows: Iterable[tuple[str, dt.date, object]],
    rules: LineRules,
    partners: dict[str, set[str]],
) -> list[Line]:
    """Steps 1-5 for one person's administrations, one administration date at a time.

    All drugs given on one date go to the same line: a new drug among them moves the others
    given that day into the new line too.
    """
    by_date: dict[dt.date, list[tuple[str, object]]] = {}
    for inn, date, reason in rows:
        by_date.setdefault(date, []).append((inn, reason))
    lines: list[Line] = []
    window = dt.timedelta(days=rules.regimen_window_days)
    gap = dt.timedelta(days=rules.gap_days)
    exempt = set(rules.gap_exempt)
    for date, given in by_date.items():  # dates ascending: the rows are sorted
        line = lines[-1] if lines else None
        if line is not None and date - line.last_dose > gap and not line.regimen <= exempt:
            line = None  # step 4: a pause longer than the gap
        if line is not None and date > line.start + window:
            new = {inn for inn, _ in given if inn not in line.regimen}
            if any(not partners.get(inn, set()) & line.regimen for inn in new):
                line = None  # step 3: a new drug after the window
            else:
                line.regimen |= new  # step 3: listed substitutions stay in the line
        if line is None:
            line = Line(person_id, len(lines) + 1, date, date)
            lines.append(line)
        for inn, reason in given:
            if date <= line.start + window:
                line.regimen.add(inn)
            line.add(inn)
            if isinstance(reason, str) and reason.strip():
                line.stop_reason = reason.strip()
        line.last_dose = max(line.last_dose, date)
    return lines
