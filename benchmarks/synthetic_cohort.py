"""Synthetic screening cohorts of any size in the study data model, for the pipeline benchmark.

``write_synthetic_cohort(folder, n_patients, seed)`` writes ``patients.csv``,
``treatments.csv``, ``lesions.csv``, ``adverse_events.csv`` and ``labs.csv`` (format:
``docs/data-model.md``). Every column is drawn with numpy for all patients at once; the same
seed gives byte-identical files.

Design, per screened patient:

* a screening group (shares in ``GROUPS``): ``eligible`` patients meet every criterion; the
  others fail one criterion each, in realistic proportions (no rechallenge, chemotherapy only,
  EGFR driver after osimertinib, stable disease as best initial response = primary
  resistance, first ICI course stopped for an irAE, ECOG PS 3 or age > 75 at rechallenge);
* treatment lines: [osimertinib] -> initial ICI (``pembrolizumab;carboplatin;pemetrexed`` or
  ``sintilimab`` ...) -> progression -> [interim ``docetaxel``] -> ICI rechallenge, numbered
  in start-date order;
* RECIST 1.1 lesions: 2-3 target lesions (non-nodal >= 12 mm, nodes >= 18 mm short axis, at
  most 2 per organ) and 1 non-target lesion; a baseline 1-21 days before each ICI course and
  follow-ups every 42-56 days. Target sizes are the baseline sizes times one factor per
  assessment: responders shrink by 40-60 % (PR), stable disease stays within -15 %..0 %, and
  the progression assessment grows 55-90 % over the nadir (>= 5 mm by construction), so the
  lesion-derived response and progression date equal ``best_response`` and
  ``progression_date`` in ``treatments.csv``. About 3 % of ICI patients have no lesion rows
  (investigator response only);
* about 2 adverse events and 6 lab results (hemoglobin g/dL, neutrophils 10^9/L, ALT U/L:
  a baseline before the first ICI dose and one on the last ICI course) per patient, dated
  inside the courses;
* death or last contact after every other date of the patient;
* with ``markers=True`` (off by default, so the other tables and every existing number
  stay as they are), the prognostic markers' inputs, drawn from a generator of their own:
  height and weight (about 5 % blank), a neutrophil and a lymphocyte count 0-10 days
  before the first rechallenge dose (about 90 % of rechallenged patients) and a PD-L1
  re-test 7-60 days before it (about 60 %). NLR and BMI depend on the rechallenge
  response (higher NLR and lower BMI with progression as best response), so they are
  prognostic for PFSR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

EPOCH_DAY = int(np.datetime64("2015-01-01", "D").astype(np.int64))
DIAGNOSIS_SPAN_DAYS = 6 * 365
NO_DATE = np.iinfo(np.int64).min
DAYS_PER_YEAR = 365.2425

GROUPS: tuple[tuple[str, float], ...] = (
    ("eligible", 0.60),
    ("no_rechallenge", 0.20),
    ("chemo_only", 0.05),
    ("egfr", 0.04),
    ("sd_initial", 0.04),
    ("irae_stop", 0.02),
    ("ecog3", 0.025),
    ("old", 0.025),
)
GROUP_NAMES = tuple(name for name, _ in GROUPS)

INITIAL_REGIMENS = (
    ("Pembrolizumab + carboplatin + pemetrexed", "pembrolizumab;carboplatin;pemetrexed"),
    ("Sintilimab", "sintilimab"),
    ("Tislelizumab + carboplatin + paclitaxel", "tislelizumab;carboplatin;paclitaxel"),
    ("Camrelizumab + carboplatin + pemetrexed", "camrelizumab;carboplatin;pemetrexed"),
)
RECHALLENGE_REGIMENS = (
    ("Sintilimab", "sintilimab"),
    ("Pembrolizumab + docetaxel", "pembrolizumab;docetaxel"),
    ("Camrelizumab", "camrelizumab"),
    ("Tislelizumab + docetaxel", "tislelizumab;docetaxel"),
)
AE_TERMS = (
    ("Fatigue", False, 0.25),
    ("Rash maculo-papular", True, 0.15),
    ("Pneumonitis", True, 0.08),
    ("Hypothyroidism", True, 0.12),
    ("Diarrhea", False, 0.12),
    ("Nausea", False, 0.13),
    ("Anorexia", False, 0.10),
    ("Pruritus", True, 0.05),
)
NT_ORGANS = ("bone", "brain", "adrenal", "pleura")
METASTASES = ("", "bone", "brain", "liver", "adrenal;bone", "lung;pleura", "brain;bone;liver")


def _days(rng: np.random.Generator, low: int, high: int, size: int) -> np.ndarray:
    """Whole days drawn uniformly from [low, high]."""
    return rng.integers(low, high + 1, size=size, dtype=np.int64)


def _ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and 1-based position of every item when owner i has counts[i] items."""
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(owner.size) - np.repeat(starts, counts) + 1
    return owner, position


def _scan_days(
    rng: np.random.Generator, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow-up scans every 42-56 days: owner, position and day from the course start."""
    owner, position = _ragged(counts)
    gaps = _days(rng, 42, 56, owner.size)
    total = np.cumsum(gaps)
    first = np.flatnonzero(position == 1)
    offset = np.repeat(total[first] - gaps[first], counts[counts > 0])
    return owner, position, total - offset


def _last_per_owner(
    owner: np.ndarray, position: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """The value of the last item of each owner (NO_DATE where an owner has none)."""
    out = np.full(counts.size, NO_DATE, dtype=np.int64)
    last = position == counts[owner]
    out[owner[last]] = values[last]
    return out


def _iso(days: np.ndarray) -> pd.Categorical:
    """ISO dates, blank where NO_DATE (categorical over the day range: cheap to build)."""
    present = days != NO_DATE
    if not present.any():
        return pd.Categorical.from_codes(np.full(days.size, -1), categories=["1970-01-01"])
    low, high = int(days[present].min()), int(days[present].max())
    labels = np.datetime_as_string(np.arange(low, high + 1).astype("datetime64[D]"), unit="D")
    return pd.Categorical.from_codes(np.where(present, days - low, -1), categories=labels)


def _labels(options: tuple[str, ...], codes: np.ndarray) -> pd.Categorical:
    """Strings from integer codes into `options` (-1 = blank)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(options))


def _pick(
    rng: np.random.Generator, options: tuple[str, ...], size: int, p: list[float] | None = None
) -> np.ndarray:
    """Categorical draw of strings."""
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def _bool_text(values: np.ndarray) -> pd.Categorical:
    return _labels(("no", "yes"), values.astype(np.int64))


class _Cohort:
    """All per-patient draws; the tables are built from these arrays."""

    def __init__(self, n: int, seed: int, markers: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.n = n
        self.markers = markers
        width = max(6, len(str(n)))
        self.ids = np.char.add("SYN-", np.char.zfill(np.arange(1, n + 1).astype(str), width))
        shares = np.array([share for _, share in GROUPS])
        self.group = rng.choice(len(GROUPS), size=n, p=shares / shares.sum())
        self._draw_courses()
        self._draw_lesions()
        self._draw_adverse_events()
        self._draw_labs()
        self._draw_outcome()
        if markers:
            self._draw_markers(seed)

    def _draw_markers(self, seed: int) -> None:
        """Marker inputs from their own generator (the other draws do not move)."""
        rng, n = np.random.default_rng([seed, 18]), self.n
        progressed_first = self.r2 == 2
        responded = self.r2 == 0
        self.height = rng.normal(167.0, 8.0, n).clip(140, 200).round(0)
        bmi = rng.normal(22.5, 3.0, n) - 1.6 * progressed_first + 0.6 * responded
        self.weight = (bmi.clip(14.5, 40.0) * (self.height / 100) ** 2).round(1)
        blank = rng.random((2, n)) < 0.05
        self.height_blank, self.weight_blank = blank
        log_nlr = np.log(3.0) + 0.45 * progressed_first - 0.25 * responded
        nlr = np.exp(log_nlr + rng.normal(0.0, 0.45, n)).clip(0.5, 30.0)
        self.lymph = rng.lognormal(np.log(1.3), 0.35, n).clip(0.2, 5.0).round(2)
        self.neut = (nlr * self.lymph).clip(0.3, 60.0).round(2)
        self.nlr_day = self.s2 - _days(rng, 0, 10, n)
        self.has_nlr = self.has_rech & (rng.random(n) < 0.9)
        self.retest = self.has_rech & (rng.random(n) < 0.6)
        self.retest_day = self.s2 - _days(rng, 7, 60, n)
        self.retest_tps = np.where(rng.random(n) < 0.4, 0, _days(rng, 1, 100, n))

    def is_group(self, *names: str) -> np.ndarray:
        """Patients in any of the named groups."""
        return np.isin(self.group, [GROUP_NAMES.index(name) for name in names])

    def _draw_courses(self) -> None:
        rng, n = self.rng, self.n
        self.chemo_only = self.is_group("chemo_only")
        self.has_ici = ~self.chemo_only
        self.has_rech = ~self.is_group("no_rechallenge", "chemo_only")
        self.diagnosis = EPOCH_DAY + _days(rng, 0, DIAGNOSIS_SPAN_DAYS, n)
        self.egfr = self.is_group("egfr")
        self.prior_start = self.diagnosis + _days(rng, 14, 35, n)
        self.prior_last = self.prior_start + _days(rng, 180, 540, n)
        self.s1 = np.where(
            self.egfr,
            self.prior_last + _days(rng, 14, 35, n),
            self.diagnosis + _days(rng, 14, 60, n),
        )
        sd_first = self.is_group("sd_initial") | (
            self.is_group("no_rechallenge") & (rng.random(n) < 0.4)
        )
        self.initial_pr = self.has_ici & ~sd_first
        self.k1 = np.where(self.initial_pr, _days(rng, 2, 5, n), _days(rng, 2, 3, n))
        self.k1[self.chemo_only] = 0
        self.init_owner, self.init_pos, self.init_day = _scan_days(rng, self.k1)
        self.p1 = np.where(
            self.has_ici,
            self.s1 + _last_per_owner(self.init_owner, self.init_pos, self.init_day, self.k1),
            NO_DATE,
        )
        irae = self.is_group("irae_stop")
        chemo_last = self.s1 + _days(rng, 63, 126, n)
        self.last1 = np.where(irae, self.p1 - _days(rng, 28, 70, n), self.p1 - _days(rng, 0, 21, n))
        self.last1 = np.where(self.chemo_only, chemo_last, self.last1)
        self.p1 = np.where(self.chemo_only, chemo_last + _days(rng, 14, 42, n), self.p1)
        self.end1 = np.where(irae, "irae", "progression").astype(object)
        self.b1 = self.s1 - _days(rng, 1, 14, n)

        self.interim = (self.has_rech & (rng.random(n) < 0.5)) | ~self.has_rech
        self.i_start = self.p1 + _days(rng, 10, 28, n)
        self.i_last = self.i_start + _days(rng, 42, 126, n)
        self.i_prog = self.i_last + _days(rng, 7, 21, n)
        self.s2 = np.where(
            self.interim, self.i_prog + _days(rng, 7, 28, n), self.p1 + _days(rng, 35, 90, n)
        )
        self.b2 = self.s2 - _days(rng, 1, 21, n)
        # rechallenge response: 0 = PR, 1 = SD, 2 = PD
        self.r2 = rng.choice(3, size=n, p=[0.25, 0.45, 0.30])
        self.n_resp = np.where(self.r2 == 2, 0, _days(rng, 1, 4, n))
        self.progressed2 = (self.r2 == 2) | (rng.random(n) < 0.75)
        self.k2 = np.where(self.has_rech, self.n_resp + self.progressed2, 0)
        self.rech_owner, self.rech_pos, self.rech_day = _scan_days(rng, self.k2)
        last_scan2 = self.s2 + _last_per_owner(
            self.rech_owner, self.rech_pos, self.rech_day, self.k2
        )
        self.p2 = np.where(self.has_rech & self.progressed2, last_scan2, NO_DATE)
        self.last_scan2 = np.where(self.has_rech, last_scan2, NO_DATE)
        self.last2 = np.where(
            self.p2 != NO_DATE, np.maximum(self.s2, self.p2 - _days(rng, 0, 21, n)), NO_DATE
        )
        self.ecog1 = rng.choice(3, size=n, p=[0.45, 0.45, 0.10])
        self.ecog2 = np.where(
            self.is_group("ecog3"), 3, rng.choice(3, size=n, p=[0.30, 0.50, 0.20])
        )
        self.initial_regimen = rng.choice(len(INITIAL_REGIMENS), size=n, p=[0.4, 0.3, 0.2, 0.1])
        self.rech_regimen = rng.choice(len(RECHALLENGE_REGIMENS), size=n)
        self.has_scans = self.has_ici & (rng.random(n) < 0.97)
        # course windows for AE and lab dates: [start, end]
        self.win1_end = np.where(self.chemo_only, self.last1, self.last1 + 30)
        rech_end = np.where(self.p2 != NO_DATE, self.last2 + 30, self.last_scan2)
        self.win2_end = np.where(self.has_rech, rech_end, NO_DATE)

    def _draw_lesions(self) -> None:
        rng, n = self.rng, self.n
        three = rng.random(n) < 0.5
        self.n_targets = np.where(three, 3, 2)
        t1 = np.where(three, _days(rng, 15, 40, n), _days(rng, 20, 45, n))
        t2_nodal = ~three & (rng.random(n) < 0.5)
        t2 = np.where(t2_nodal, _days(rng, 20, 35, n), _days(rng, 15, 40, n))
        t2 = np.where(~three & ~t2_nodal, np.maximum(t2, 20), t2)
        t3 = _days(rng, 18, 35, n)
        self.target_sizes = np.stack([t1, t2, t3], axis=1).astype(np.float64)
        self.t2_nodal = t2_nodal
        self.nt_organ = rng.integers(0, len(NT_ORGANS), size=n)
        # per-course response factors
        self.shrink1 = np.where(
            self.initial_pr, 1 - rng.uniform(0.4, 0.6, n), rng.uniform(0.85, 1.0, n)
        )
        self.grow1 = rng.uniform(1.55, 1.9, n)
        self.base2 = rng.uniform(0.9, 1.2, n)
        self.shrink2 = np.select(
            [self.r2 == 0, self.r2 == 1],
            [1 - rng.uniform(0.4, 0.6, n), rng.uniform(0.85, 1.0, n)],
            1.0,
        )
        self.grow2 = rng.uniform(1.55, 1.9, n)

    def assessments(self) -> pd.DataFrame:
        """One row per assessment: patient index, day and the factor applied to target sizes."""
        scans = self.has_scans
        init = scans[self.init_owner]
        io, ipos = self.init_owner[init], self.init_pos[init]
        init_factor = np.where(
            ipos < self.k1[io], self.shrink1[io], self.shrink1[io] * self.grow1[io]
        )
        rech = scans[self.rech_owner]
        ro, rpos = self.rech_owner[rech], self.rech_pos[rech]
        rech_factor = self.base2[ro] * np.where(
            rpos <= self.n_resp[ro], self.shrink2[ro], self.shrink2[ro] * self.grow2[ro]
        )
        b1_owner = np.flatnonzero(scans)
        b2_owner = np.flatnonzero(scans & self.has_rech)
        owner = np.concatenate([b1_owner, io, b2_owner, ro])
        day = np.concatenate(
            [
                self.b1[b1_owner],
                self.s1[io] + self.init_day[init],
                self.b2[b2_owner],
                self.s2[ro] + self.rech_day[rech],
            ]
        )
        factor = np.concatenate(
            [np.ones(b1_owner.size), init_factor, self.base2[b2_owner], rech_factor]
        )
        order = np.lexsort((day, owner))
        return pd.DataFrame({"owner": owner[order], "day": day[order], "factor": factor[order]})

    def _draw_adverse_events(self) -> None:
        rng, n = self.rng, self.n
        counts = np.minimum(rng.poisson(2.0, n), 6)
        owner, _ = _ragged(counts)
        in_rech = self.has_rech[owner] & (rng.random(owner.size) < 0.5)
        start = np.where(in_rech, self.s2[owner], self.s1[owner])
        end = np.where(in_rech, self.win2_end[owner], self.win1_end[owner])
        onset = start + np.floor(rng.random(owner.size) * (end - start + 1)).astype(np.int64)
        probs = np.array([p for _, _, p in AE_TERMS])
        term = rng.choice(len(AE_TERMS), size=owner.size, p=probs / probs.sum())
        grade = rng.choice(np.array([1, 2, 3, 4]), size=owner.size, p=[0.55, 0.33, 0.10, 0.02])
        # One record per (patient, onset, term): a repeated event is a data error (AE-004).
        _, first = np.unique(np.stack([owner, onset, term]), axis=1, return_index=True)
        keep = np.sort(first)
        self.ae = (owner[keep], onset[keep], term[keep], grade[keep])

    def _draw_labs(self) -> None:
        rng, n = self.rng, self.n
        base_day = self.s1 - _days(rng, 0, 7, n)
        late_start = np.where(self.has_rech, self.s2, self.s1) + 14
        late_end = np.maximum(np.where(self.has_rech, self.win2_end, self.win1_end), late_start)
        late_day = late_start + np.floor(rng.random(n) * (late_end - late_start + 1)).astype(
            np.int64
        )
        self.lab_days = (base_day, late_day)

    def _draw_outcome(self) -> None:
        rng, n = self.rng, self.n
        ae_owner, ae_onset, _, _ = self.ae
        candidates = [
            self.last1,
            self.p1,
            self.lab_days[1],
            np.where(self.interim, self.i_prog, NO_DATE),
            self.last_scan2,
            self.p2,
            self.last2,
            self.win2_end,
        ]
        last = np.maximum.reduce(candidates)
        ae_last = np.full(n, NO_DATE, dtype=np.int64)
        np.maximum.at(ae_last, ae_owner, ae_onset)
        last = np.maximum(last, ae_last)
        ongoing = self.has_rech & ~self.progressed2
        p_death = np.where(ongoing, 0.0, np.where(self.has_rech, 0.65, 0.7))
        self.dead = rng.random(n) < p_death
        self.death = np.where(self.dead, last + _days(rng, 14, 400, n), NO_DATE)
        self.last_contact = np.where(self.dead, self.death, last + _days(rng, 0, 90, n))
        old = self.is_group("old")
        anchor = np.where(self.has_rech, self.s2, self.s1)
        age = np.where(old, _days(rng, 76, 84, n), _days(rng, 40, 73, n))
        self.birth = anchor - np.floor((age + rng.uniform(0.05, 0.95, n)) * DAYS_PER_YEAR).astype(
            np.int64
        )

    # ----------------------------------------------------------------------------- tables

    def patients(self) -> pd.DataFrame:
        """One row per patient."""
        rng, n = self.rng, self.n
        driver = _pick(rng, ("none", "KRAS", "unknown"), n, p=[0.7, 0.15, 0.15])
        driver[self.egfr] = "EGFR"
        tested = rng.random(n) < 0.9
        tps = np.select(
            [rng.random(n) < 0.35, rng.random(n) < 0.6],
            [np.zeros(n, dtype=np.int64), _days(rng, 1, 49, n)],
            _days(rng, 50, 100, n),
        )
        return pd.DataFrame(
            {
                "patient_id": self.ids,
                "sex": _pick(rng, ("male", "female"), n, p=[0.7, 0.3]),
                "birth_date": _iso(self.birth),
                "smoking": _pick(rng, ("never", "former", "current"), n, p=[0.3, 0.5, 0.2]),
                "histology": _pick(
                    rng,
                    ("adenocarcinoma", "squamous", "adenosquamous", "large_cell", "nos"),
                    n,
                    p=[0.58, 0.35, 0.03, 0.02, 0.02],
                ),
                "stage": _pick(rng, ("IIIB", "IIIC", "IVA", "IVB"), n, p=[0.1, 0.05, 0.35, 0.5]),
                "recurrent": _bool_text(rng.random(n) < 0.1),
                "diagnosis_date": _iso(self.diagnosis),
                "driver": driver,
                "pdl1_tps": pd.Series(tps, dtype="Int64").where(tested),
                "metastases": _pick(rng, METASTASES, n),
                "last_contact_date": _iso(self.last_contact),
                "death_date": _iso(self.death),
            }
        )

    def with_markers(self, patients: pd.DataFrame) -> pd.DataFrame:
        """The patients table with the marker columns after ``pdl1_tps``."""
        if not self.markers:
            return patients
        columns = {
            "pdl1_retest_tps": pd.Series(self.retest_tps, dtype="Int64").where(self.retest),
            "pdl1_retest_date": _iso(np.where(self.retest, self.retest_day, NO_DATE)),
            "height_cm": pd.Series(self.height).where(~self.height_blank),
            "weight_kg": pd.Series(self.weight).where(~self.weight_blank),
        }
        at = patients.columns.get_loc("pdl1_tps") + 1
        for k, (name, values) in enumerate(columns.items()):
            patients.insert(at + k, name, values)
        return patients

    def marker_labs(self) -> pd.DataFrame:
        """Neutrophil and lymphocyte counts before the first rechallenge dose."""
        owner = np.repeat(np.nonzero(self.has_nlr)[0], 2)
        test = np.tile(np.array([0, 1]), int(self.has_nlr.sum()))
        value = np.where(test == 0, self.neut[owner], self.lymph[owner])
        return pd.DataFrame(
            {
                "patient_id": pd.Categorical.from_codes(owner, categories=self.ids),
                "date": _iso(self.nlr_day[owner]),
                "test": _labels(("neutrophils", "lymphocytes"), test),
                "value": value,
                "unit": _labels(("10^9/L",), np.zeros_like(test)),
                "lln": np.array([1.8, 1.0])[test],
                "uln": np.array([6.3, 4.0])[test],
            }
        )

    def treatments(self) -> pd.DataFrame:
        """One row per line, numbered in start-date order per patient."""
        n = self.n
        idx = np.arange(n)
        parts: list[pd.DataFrame] = []

        def add(mask: np.ndarray, **columns: object) -> None:
            rows = idx[mask]
            frame = {"owner": rows}
            for name, value in columns.items():
                frame[name] = value[rows] if isinstance(value, np.ndarray) else value
            parts.append(pd.DataFrame(frame))

        init_names = np.array([r for r, _ in INITIAL_REGIMENS], dtype=object)
        init_agents = np.array([a for _, a in INITIAL_REGIMENS], dtype=object)
        rech_names = np.array([r for r, _ in RECHALLENGE_REGIMENS], dtype=object)
        rech_agents = np.array([a for _, a in RECHALLENGE_REGIMENS], dtype=object)
        initial_bor = np.where(self.initial_pr, "PR", "SD").astype(object)
        add(
            self.egfr,
            regimen="Osimertinib",
            agents="osimertinib",
            start=self.prior_start,
            last=self.prior_last,
            end_reason="progression",
            ecog=self.ecog1,
            best_response="PR",
            progression=self.prior_last + 14,
        )
        add(
            self.has_ici,
            regimen=init_names[self.initial_regimen],
            agents=init_agents[self.initial_regimen],
            start=self.s1,
            last=self.last1,
            end_reason=self.end1,
            ecog=self.ecog1,
            best_response=initial_bor,
            progression=self.p1,
        )
        add(
            self.chemo_only,
            regimen="Carboplatin + pemetrexed",
            agents="carboplatin;pemetrexed",
            start=self.s1,
            last=self.last1,
            end_reason="progression",
            ecog=self.ecog1,
            best_response="SD",
            progression=self.p1,
        )
        add(
            self.interim,
            regimen="Docetaxel",
            agents="docetaxel",
            start=self.i_start,
            last=self.i_last,
            end_reason="progression",
            ecog=np.minimum(self.ecog1 + 1, 2),
            best_response="SD",
            progression=self.i_prog,
        )
        rech_bor = np.array(["PR", "SD", "PD"], dtype=object)[self.r2]
        add(
            self.has_rech,
            regimen=rech_names[self.rech_regimen],
            agents=rech_agents[self.rech_regimen],
            start=self.s2,
            last=self.last2,
            end_reason=np.where(self.p2 != NO_DATE, "progression", "ongoing").astype(object),
            ecog=self.ecog2,
            best_response=rech_bor,
            progression=self.p2,
        )
        lines = pd.concat(parts, ignore_index=True)
        order = np.lexsort((lines["start"].to_numpy(), lines["owner"].to_numpy()))
        lines = lines.iloc[order].reset_index(drop=True)
        owner = lines["owner"].to_numpy()
        first = np.r_[True, owner[1:] != owner[:-1]]
        run_start = np.maximum.accumulate(np.where(first, np.arange(owner.size), 0))
        return pd.DataFrame(
            {
                "patient_id": pd.Categorical.from_codes(owner, categories=self.ids),
                "line": np.arange(owner.size) - run_start + 1,
                "regimen": lines["regimen"],
                "agents": lines["agents"],
                "start_date": _iso(lines["start"].to_numpy()),
                "last_dose_date": _iso(lines["last"].to_numpy()),
                "end_reason": lines["end_reason"],
                "ecog": lines["ecog"],
                "best_response": lines["best_response"],
                "progression_date": _iso(lines["progression"].to_numpy()),
            }
        )

    def lesions(self) -> pd.DataFrame:
        """One row per lesion per assessment (targets then the non-target lesion)."""
        visits = self.assessments()
        owner = visits["owner"].to_numpy()
        per_visit = self.n_targets[owner] + 1
        visit, slot = _ragged(per_visit)
        slot = slot - 1
        who = owner[visit]
        is_nt = slot == self.n_targets[who]
        size = self.target_sizes[who, np.minimum(slot, 2)] * visits["factor"].to_numpy()[visit]
        nodal = (slot == 2) | ((slot == 1) & self.t2_nodal[who])
        organ_code = np.where(slot == 0, 0, np.where(nodal, 1, 2))
        organ_code = np.where(is_nt, 3 + self.nt_organ[who], organ_code)
        return pd.DataFrame(
            {
                "patient_id": pd.Categorical.from_codes(who, categories=self.ids),
                "assessment_date": _iso(visits["day"].to_numpy()[visit]),
                "lesion_id": _labels(("T1", "T2", "T3", "NT1"), np.where(is_nt, 3, slot)),
                "role": _labels(("target", "non_target"), is_nt.astype(np.int64)),
                "organ": _labels(("lung", "lymph_node", "liver", *NT_ORGANS), organ_code),
                "lymph_node": _bool_text(nodal & ~is_nt),
                "size_mm": pd.Series(np.rint(size).astype(np.int64), dtype="Int64").where(~is_nt),
                "status": _labels(("present",), np.where(is_nt, 0, -1)),
            }
        )

    def adverse_events(self) -> pd.DataFrame:
        """Reported adverse events, dated inside a course."""
        owner, onset, term, grade = self.ae
        order = np.lexsort((onset, owner))
        terms = np.array([t for t, _, _ in AE_TERMS], dtype=object)
        immune = np.array([i for _, i, _ in AE_TERMS])
        return pd.DataFrame(
            {
                "patient_id": pd.Categorical.from_codes(owner[order], categories=self.ids),
                "term": terms[term[order]],
                "grade": grade[order],
                "onset_date": _iso(onset[order]),
                "immune_related": _bool_text(immune[term[order]]),
            }
        )

    def labs(self) -> pd.DataFrame:
        """Hemoglobin, neutrophils and ALT at baseline and once on the last ICI course."""
        rng, n = self.rng, self.n
        base_day, late_day = self.lab_days
        owner = np.repeat(np.arange(n), 6)
        visit = np.tile(np.array([0, 0, 0, 1, 1, 1]), n)
        test = np.tile(np.array([0, 1, 2, 0, 1, 2]), n)
        late = visit == 1
        size = owner.size
        hb = np.where(late, rng.normal(11.2, 1.8, size), rng.normal(13.2, 1.2, size))
        anc = np.where(late, rng.lognormal(np.log(3.2), 0.55, size), rng.normal(4.2, 1.0, size))
        alt = rng.lognormal(np.where(late, np.log(30.0), np.log(22.0)), np.where(late, 0.7, 0.3))
        value = np.select(
            [test == 0, test == 1],
            [np.clip(hb, 5.5, 17.5).round(1), np.clip(anc, 0.2, 15.0).round(2)],
            np.clip(alt, 5.0, 900.0).round(0),
        )
        return pd.DataFrame(
            {
                "patient_id": pd.Categorical.from_codes(owner, categories=self.ids),
                "date": _iso(np.where(late, late_day[owner], base_day[owner])),
                "test": _labels(("hemoglobin", "neutrophils", "alt"), test),
                "value": value,
                "unit": _labels(("g/dL", "10^9/L", "U/L"), test),
                "lln": np.array([12.0, 1.8, np.nan])[test],
                "uln": np.array([16.0, 6.3, 40.0])[test],
            }
        )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Plain CSV (no quoting: no value holds a comma or a quote), written by Arrow."""
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(frame.columns) + "\n").encode("utf-8"))
        pa_csv.write_csv(
            pa.Table.from_pandas(frame, preserve_index=False),
            sink,
            pa_csv.WriteOptions(include_header=False, quoting_style="none"),
        )


def write_synthetic_cohort(
    folder: Path, n_patients: int, seed: int = 7, *, markers: bool = False
) -> dict[str, int]:
    """Write the five CSV tables of a synthetic cohort of `n_patients`; rows per table.

    ``markers`` adds the prognostic markers' inputs (module docstring); off, the files are
    those of earlier versions byte for byte.
    """
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cohort = _Cohort(n_patients, seed, markers)
    tables = {
        "patients": cohort.with_markers(cohort.patients()),
        "treatments": cohort.treatments(),
        "lesions": cohort.lesions(),
        "adverse_events": cohort.adverse_events(),
        "labs": cohort.labs(),
    }
    if markers:
        labs = pd.concat([tables["labs"], cohort.marker_labs()], ignore_index=True)
        for column in ("patient_id", "test", "unit"):
            labs[column] = labs[column].astype(str)
        tables["labs"] = labs.sort_values(["patient_id", "date"], kind="stable")
    for name, frame in tables.items():
        _write_csv(frame, folder / f"{name}.csv")
    return {name: len(frame) for name, frame in tables.items()}


def main() -> None:
    """Command line: write one cohort."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("n_patients", type=int)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(write_synthetic_cohort(args.folder, args.n_patients, args.seed))


if __name__ == "__main__":
    main()
