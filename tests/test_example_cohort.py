"""Tests of the bundled synthetic seed cohort (``examples/seed_cohort``).

(a) ``generate.py`` reproduces the committed CSVs byte for byte;
(b) the cohort has the intended structure: 13 patients who meet every criterion and screen
    failures that each fail exactly one, baseline counts as published, RECIST 1.1 derivations
    (re-implemented here in a few lines, independent of ``src/``) that agree with the
    investigator columns and with the designed PFS times, and the adverse-event counts.

The survival statistics themselves (KM medians, log-rank, Cox) are checked in R during design;
see ``examples/seed_cohort/DESIGN.md``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

COHORT = Path(__file__).resolve().parents[1] / "examples" / "seed_cohort"
TABLES = ("patients", "treatments", "lesions", "adverse_events", "labs")
CUTOFF = pd.Timestamp("2024-12-01")
ICI = {"pembrolizumab", "sintilimab", "camrelizumab", "tislelizumab", "toripalimab"}

# Designed PFS times (days) by design key; "+" = censored.  See DESIGN.md.
PFS1 = {
    "A1": 151, "A2": 105, "A3": 171, "A4": 229, "A5": 140, "B1": 182, "B2": 126,
    "B3": 262, "B4": 208, "B5": 298, "B6": 160, "B7": 341, "B8": 407,
}  # fmt: skip
PFSR = {
    "A1": "36", "A2": "41", "A3": "51", "A4": "60", "A5": "98", "B1": "74", "B2": "84",
    "B3": "88", "B4": "125+", "B5": "187", "B6": "236", "B7": "316+", "B8": "385",
}  # fmt: skip


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_cohort_generate", COHORT / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


GEN = _load_generator()


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    """The committed CSV tables (all columns as text, empty cells as NA)."""
    return {t: pd.read_csv(COHORT / f"{t}.csv", dtype=str) for t in TABLES}


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    """patient_id -> design key (A1 ... B8, SF1 ... SF9)."""
    return {d.pid: d.note for d in GEN.PATIENTS}


@pytest.fixture(scope="module")
def intents() -> dict[str, str]:
    """patient_id -> "include" or the one criterion the screen failure fails."""
    return {d.pid: d.intent for d in GEN.PATIENTS}


# ----------------------------------------------------------------------------- (a) ---------


def test_generate_reproduces_committed_csvs(tmp_path: Path) -> None:
    """Running the generator writes the committed files byte for byte."""
    subprocess.run(
        [sys.executable, str(COHORT / "generate.py"), "--out", str(tmp_path)], check=True
    )
    for table in TABLES:
        committed = (COHORT / f"{table}.csv").read_bytes()
        assert (tmp_path / f"{table}.csv").read_bytes() == committed, table


def test_generate_is_deterministic(tmp_path: Path) -> None:
    """Two runs give identical output."""
    for sub in ("one", "two"):
        GEN.main(["--out", str(tmp_path / sub)])
    for table in TABLES:
        one = (tmp_path / "one" / f"{table}.csv").read_bytes()
        assert one == (tmp_path / "two" / f"{table}.csv").read_bytes()


# ----------------------------------------------------------------------------- (b) ---------
# A minimal RECIST 1.1 reader: baseline = last assessment within 28 days on/before the first
# dose; PD = target sum >= 20 % and >= 5 mm above the nadir, a new lesion, or unequivocal
# non-target progression; PR = >= 30 % below baseline; SD counts only from day 42.


@dataclass(frozen=True)
class Course:
    """Derived response of one treatment line."""

    start: pd.Timestamp
    bor: str | None  # None = no follow-up assessment
    pd_date: pd.Timestamp | None
    measurable: bool


def _lines(data: dict[str, pd.DataFrame], pid: str) -> pd.DataFrame:
    t = data["treatments"]
    lines = t[t.patient_id == pid].copy()
    lines["start"] = pd.to_datetime(lines.start_date)
    lines["line"] = lines.line.astype(int)
    return lines.sort_values("line").reset_index(drop=True)


def _is_ici(agents: str) -> bool:
    return any(a in ICI for a in agents.split(";"))


def derive_course(data: dict[str, pd.DataFrame], pid: str, line_no: int) -> Course:
    """Derive best response and progression date of one line from lesions.csv."""
    lines = _lines(data, pid)
    row = lines[lines.line == line_no].iloc[0]
    start = row.start
    later = lines[lines.start > start]
    stop = later.start.min() if len(later) else pd.Timestamp.max
    les = data["lesions"][data["lesions"].patient_id == pid].copy()
    les["date"] = pd.to_datetime(les.assessment_date)
    window = les[(les.date <= start) & (les.date >= start - pd.Timedelta(days=28))]
    assert len(window), f"{pid} line {line_no}: no baseline"
    base_date = window.date.max()
    base = les[les.date == base_date]
    targets = base[base.role == "target"]
    target_ids = set(targets.lesion_id)
    sizes_ok = [
        (float(r.size_mm) >= 15) if r.lymph_node == "yes" else (float(r.size_mm) >= 10)
        for r in targets.itertuples()
    ]
    # every target lesion must be measurable at the baseline of its course
    assert all(sizes_ok), f"{pid} line {line_no}: non-measurable target at baseline"
    assert len(targets) <= 5 and (targets.organ.value_counts() <= 2).all()
    measurable = bool(sizes_ok)
    b_sum = targets.size_mm.astype(float).sum()
    nadir = b_sum
    best: str | None = None
    order = {"PR": 3, "SD": 2, "PD": 1}
    for when in sorted(les[(les.date > start) & (les.date < stop)].date.unique()):
        visit = les[les.date == when]
        tv = visit[visit.lesion_id.isin(target_ids)]
        assert set(tv.lesion_id) == target_ids, f"{pid}: target set changed at {when}"
        s = tv.size_mm.astype(float).sum()
        new = (visit.role == "new").any()
        nt_pd = ((visit.role == "non_target") & (visit.status == "progression")).any()
        day = (pd.Timestamp(when) - start).days
        if (target_ids and 5 * (s - nadir) >= nadir and s - nadir >= 5) or new or nt_pd:
            tpr = "PD"
        elif target_ids and 10 * (b_sum - s) >= 3 * b_sum:
            tpr = "PR"
        else:
            tpr = "SD" if day >= 42 else None
        if tpr is not None and (best is None or order[tpr] > order[best]):
            best = tpr
        if tpr == "PD":
            return Course(start, best, pd.Timestamp(when), measurable)
        nadir = min(nadir, s)
    if best is None and len(les[(les.date > start) & (les.date < stop)]):
        best = "NE"
    return Course(start, best, None, measurable)


def ici_lines(data: dict[str, pd.DataFrame], pid: str) -> tuple[int, int | None]:
    """Line numbers of the initial and (if any) rechallenge ICI course."""
    lines = _lines(data, pid)
    ici = [r.line for r in lines.itertuples() if _is_ici(r.agents)]
    first = ici[0]
    progressed = lines[lines.progression_date.notna()]
    rech = next(
        (n for n in ici[1:] if (progressed.start < lines[lines.line == n].start.iloc[0]).any()),
        None,
    )
    return first, rech


def test_row_counts_and_ids(data: dict[str, pd.DataFrame], intents: dict[str, str]) -> None:
    """13 intended includes, 10-12 screen failures, invented QZ- identifiers."""
    pts = data["patients"]
    assert pts.patient_id.is_unique
    assert pts.patient_id.str.fullmatch(r"QZ-\d{4}").all()
    assert set(pts.patient_id) == set(intents)
    values = list(intents.values())
    assert values.count("include") == 13
    assert 10 <= len(values) - 13 <= 12


def test_dates_are_valid(data: dict[str, pd.DataFrame]) -> None:
    """No date after the cut-off or after death; lines ordered; last dose >= start."""
    pts = data["patients"].set_index("patient_id")
    for table, cols in {
        "treatments": ["start_date", "last_dose_date", "progression_date"],
        "lesions": ["assessment_date"],
        "adverse_events": ["onset_date"],
        "labs": ["date"],
    }.items():
        df = data[table]
        for col in cols:
            dates = pd.to_datetime(df[col])
            assert (dates.dropna() <= CUTOFF).all(), (table, col)
            assert (dates.dropna() >= pd.Timestamp("2020-05-01")).all() or table == "treatments"
            last = pd.to_datetime(pts.loc[df.patient_id, "last_contact_date"]).to_numpy()
            ok = dates.isna().to_numpy() | (dates.to_numpy() <= last)
            assert ok.all(), (table, col)
    for pid in pts.index:
        lines = _lines(data, pid)
        assert list(lines.line) == list(range(1, len(lines) + 1))
        assert lines.start.is_monotonic_increasing
        last = pd.to_datetime(lines.last_dose_date)
        assert (last.isna() | (last >= lines.start)).all()
        p = pts.loc[pid]
        assert pd.Timestamp(p.diagnosis_date) <= lines.start.min()
        if isinstance(p.death_date, str):
            assert p.death_date == p.last_contact_date
    assert (pd.to_datetime(pts.last_contact_date) <= CUTOFF).all()


def test_included_patients_responses_and_times(
    data: dict[str, pd.DataFrame], intents: dict[str, str], keys: dict[str, str]
) -> None:
    """Derived responses agree with treatments.csv and with the designed PFS1/PFSR."""
    pts = data["patients"].set_index("patient_id")
    bor_r = []
    for pid, intent in intents.items():
        if intent != "include":
            continue
        first, rech = ici_lines(data, pid)
        assert rech is not None
        lines = _lines(data, pid).set_index("line")
        init = derive_course(data, pid, first)
        rc = derive_course(data, pid, rech)
        assert init.bor == "PR" and init.pd_date is not None
        assert rc.measurable
        for line_no, course in ((first, init), (rech, rc)):
            row = lines.loc[line_no]
            assert row.best_response == course.bor, (pid, line_no)
            expected = None if course.pd_date is None else course.pd_date.date().isoformat()
            assert (row.progression_date if isinstance(row.progression_date, str) else None) == (
                expected
            )
        assert (init.pd_date - init.start).days == PFS1[keys[pid]]
        # AIR: progression within 183 days of the last initial dose; stopped for progression
        last_dose = pd.Timestamp(lines.loc[first].last_dose_date)
        assert (init.pd_date - last_dose).days <= 182
        assert lines.loc[first].end_reason == "progression"
        if rc.pd_date is not None:
            pfsr = f"{(rc.pd_date - rc.start).days}"
        else:
            pfsr = f"{(pd.Timestamp(pts.loc[pid].last_contact_date) - rc.start).days}+"
        death = pts.loc[pid].death_date
        if isinstance(death, str) and rc.pd_date is not None:
            assert pd.Timestamp(death) > rc.pd_date
        assert pfsr == PFSR[keys[pid]], pid
        bor_r.append(rc.bor)
    assert bor_r.count("SD") == 8 and bor_r.count("PD") == 5


def _age(birth: str, at: pd.Timestamp) -> int:
    b = date.fromisoformat(birth)
    return at.year - b.year - ((at.month, at.day) < (b.month, b.day))


def test_baseline_characteristics(data: dict[str, pd.DataFrame], intents: dict[str, str]) -> None:
    """Table 3 of the seed study for the 13 included patients."""
    inc = [p for p, i in intents.items() if i == "include"]
    pts = data["patients"].set_index("patient_id").loc[inc]
    ages, ecog = [], []
    for pid in inc:
        _, rech = ici_lines(data, pid)
        lines = _lines(data, pid).set_index("line")
        ages.append(_age(pts.loc[pid].birth_date, lines.loc[rech].start))
        ecog.append(int(lines.loc[rech].ecog))
    ages.sort()
    assert (ages[6], ages[0], ages[-1]) == (67, 58, 70)
    assert (pts.sex == "male").sum() == 10
    assert pts.smoking.isin(["former", "current"]).sum() == 10
    assert pts.stage.str.startswith("III").sum() == 2
    assert pts.stage.str.startswith("IV").sum() == 11
    assert pts.histology.value_counts().to_dict() == {
        "squamous": 6,
        "adenocarcinoma": 6,
        "adenosquamous": 1,
    }
    mets = pts.metastases.fillna("").str.split(";")
    for site, n in {"lung": 6, "brain": 2, "bone": 2}.items():
        assert mets.apply(lambda m, s=site: s in m).sum() == n, site
    assert (pts.pdl1_tps.astype(float) < 1).sum() == 5
    assert sum(e == 2 for e in ecog) == 5 and max(ecog) <= 2
    assert (pts.driver == "none").all()


def _criteria(data: dict[str, pd.DataFrame], pid: str) -> dict[str, bool]:
    """Every protocol criterion for one patient (True = passes)."""
    p = data["patients"].set_index("patient_id").loc[pid]
    lines = _lines(data, pid).set_index("line")
    first, rech = ici_lines(data, pid)
    init = derive_course(data, pid, first)
    out = {
        "nsclc_advanced": isinstance(p.stage, str) or p.recurrent == "yes",
        "no_driver": p.driver in ("none", "KRAS", "unknown"),
        "has_rechallenge": rech is not None,
    }
    last_dose = pd.Timestamp(lines.loc[first].last_dose_date)
    out["acquired_resistance"] = (
        init.bor in ("CR", "PR")
        and init.pd_date is not None
        and (init.pd_date - last_dose).days <= 182
    )
    out["initial_stop_reason"] = lines.loc[first].end_reason not in (
        "clinical_decision",
        "marrow_suppression",
        "irae",
    )
    if rech is None:
        return out
    rc = derive_course(data, pid, rech)
    out["measurable_disease"] = rc.measurable
    out["age_range"] = 18 <= _age(p.birth_date, lines.loc[rech].start) <= 75
    has_bor = isinstance(lines.loc[rech].best_response, str)
    out["incomplete_data"] = rc.bor is not None or has_bor
    out["ecog_max"] = int(lines.loc[rech].ecog) <= 2
    return out


def test_each_screen_failure_fails_exactly_one_criterion(
    data: dict[str, pd.DataFrame], intents: dict[str, str]
) -> None:
    """Includes pass everything; each screen failure fails only its documented criterion."""
    failed = []
    for pid, intent in intents.items():
        crit = _criteria(data, pid)
        bad = [name for name, ok in crit.items() if not ok]
        if intent == "include":
            assert bad == [], pid
            assert len(crit) == 9
        else:
            assert bad == [intent], (pid, bad)
            failed.append(intent)
    for name in (
        "nsclc_advanced",
        "no_driver",
        "has_rechallenge",
        "measurable_disease",
        "age_range",
        "incomplete_data",
        "ecog_max",
    ):
        assert failed.count(name) == 1, name
    assert failed.count("acquired_resistance") == 2
    assert failed.count("initial_stop_reason") == 2


def _lab_grade(row: pd.Series, male: bool) -> tuple[str, int] | None:
    value = float(row.value)
    if row.test == "hemoglobin":
        gdl = value / 10 if row.unit == "g/L" else value
        if isinstance(row.lln, str):
            lln = float(row.lln) / 10 if row.unit == "g/L" else float(row.lln)
        else:
            lln = 13.0 if male else 12.0
        grade = 3 if gdl < 8 else 2 if gdl < 10 else 1 if gdl < lln else 0
        return ("Anemia", grade) if grade else None
    lln = float(row.lln)
    if row.test == "neutrophils":
        grade = 4 if value < 0.5 else 3 if value < 1 else 2 if value < 1.5 else int(value < lln)
        return ("Neutrophil count decreased", grade) if grade else None
    grade = 4 if value < 1 else 3 if value < 2 else 2 if value < 3 else int(value < lln)
    return ("White blood cell decreased", grade) if grade else None


def test_adverse_event_counts(data: dict[str, pd.DataFrame], intents: dict[str, str]) -> None:
    """Worst grade per patient, term and phase (reports merged with lab grades)."""
    inc = [p for p, i in intents.items() if i == "include"]
    pts = data["patients"].set_index("patient_id")
    worst: dict[tuple[str, str, str], int] = {}
    for pid in inc:
        first, rech = ici_lines(data, pid)
        lines = _lines(data, pid).set_index("line")
        windows = {}
        for phase, n in (("I", first), ("R", rech)):
            start = lines.loc[n].start
            end = lines.loc[n].last_dose_date
            end = (
                pd.Timestamp(end)
                if isinstance(end, str)
                else pd.Timestamp(pts.loc[pid].last_contact_date)
            )
            windows[phase] = (start, end)

        def phase_of(d: str, windows: dict = windows, pid: str = pid) -> str:
            t = pd.Timestamp(d)
            for ph, (s, e) in windows.items():
                if s < t < e:
                    return ph
            raise AssertionError(f"{pid}: date {d} outside both courses")

        for r in data["adverse_events"][data["adverse_events"].patient_id == pid].itertuples():
            k = (pid, r.term, phase_of(r.onset_date))
            worst[k] = max(worst.get(k, 0), int(r.grade))
        male = pts.loc[pid].sex == "male"
        for _, r in data["labs"][data["labs"].patient_id == pid].iterrows():
            g = _lab_grade(r, male)
            if g is not None:
                k = (pid, g[0], phase_of(r.date))
                worst[k] = max(worst.get(k, 0), g[1])

    def count(term: str, phase: str, min_grade: int = 1) -> int:
        return sum(1 for (_, t, ph), g in worst.items() if t == term and ph == phase
                   and g >= min_grade)  # fmt: skip

    assert count("Fatigue", "I") == 6 and count("Anemia", "I") == 5
    assert count("Anemia", "I", 3) == 2
    assert count("Neutrophil count decreased", "I", 3) == 2
    assert count("White blood cell decreased", "I", 3) == 1
    assert count("Fatigue", "I", 3) == 1
    assert count("Anemia", "R") == 5 and count("Fatigue", "R") == 4
    assert count("Anemia", "R", 3) == 1
    assert sum(1 for (_, _, ph), g in worst.items() if ph == "R" and g >= 3) == 1
    for phase, top in (("I", 6), ("R", 5)):
        terms = {t for (_, t, ph) in worst if ph == phase}
        others = [count(t, phase) for t in terms if t not in ("Fatigue", "Anemia")]
        assert max(others, default=0) < min(top, count("Anemia", phase), count("Fatigue", phase))
    # some anemia from labs only, some from reports only, some from both
    rep = {(r.patient_id, r.term) for r in data["adverse_events"].itertuples()}
    assert any((pid, "Anemia") not in rep for (pid, t, _) in worst if t == "Anemia")
    assert any((pid, "Anemia") in rep for (pid, t, _) in worst if t == "Anemia")
    assert set(data["labs"].unit) >= {"g/L", "g/dL", "10^9/L"}
