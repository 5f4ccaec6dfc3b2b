"""Generate the bundled SYNTHETIC seed cohort (``examples/seed_cohort/*.csv``).

The cohort imitates the single-centre ICI-rechallenge study in ``seed-study.md``: 13 patients
who meet every criterion (their analysis must reproduce every published number) and 11 screen
failures, each failing exactly one inclusion/exclusion criterion.  Every person, identifier
and date is invented.  The script uses only the standard library, has no randomness, and
writes byte-identical CSV files on every run::

    python examples/seed_cohort/generate.py            # rewrite the CSVs in place
    python examples/seed_cohort/generate.py --out DIR  # write them elsewhere

How it works: each patient is one row of ``PATIENTS`` (design intent in the comments).  The
builder turns a row into dates, treatment lines and RECIST 1.1 measurements:

* tumour sizes are the baseline sizes times a per-scan factor, rounded to whole millimetres;
  a course's baseline is the last scan on or before its first dose (<= 28 days before);
* PFS1 / PFSR are the day of the progression scan (``pfs1``; last entry of ``rech_scans``);
* censored PFSR (no progression) ends at ``last_contact_date``, which is then the date of the
  last scan, so censoring at last contact or at the last adequate assessment gives the same
  time.

Adverse events and laboratory results are in ``AE_EVENTS`` and ``LAB_EVENTS`` (see DESIGN.md
for the counts they produce).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

CUTOFF = date(2024, 12, 1)
HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lesion:
    """A lesion present at the first baseline; ``size`` (mm) is given for target lesions."""

    lesion_id: str
    organ: str
    size: int | None = None  # None = non-target (recorded qualitatively)
    nodal: bool = False


@dataclass(frozen=True)
class Scan:
    """A follow-up assessment ``day`` days after the first dose of a course.

    ``factor`` scales every target lesion relative to the course baseline; ``new`` names the
    organ of an unequivocal new lesion first seen at this scan; ``nt_pd`` marks unequivocal
    progression of the non-target lesions.
    """

    day: int
    factor: float
    new: str | None = None
    nt_pd: bool = False


@dataclass(frozen=True)
class Line:
    """A non-ICI line (interim therapy, or a later line without ICI)."""

    regimen: str
    agents: str
    length: int  # days from first dose to the progression scan
    ecog: int
    response: str = "SD"  # investigator best response, consistent with the scans
    gap_before: int = 14  # days from the previous progression scan to the first dose


@dataclass(frozen=True)
class Design:
    """One patient's design.  Days are counted from the first dose of the course."""

    pid: str
    intent: str  # "include" or the single criterion the screen failure fails
    note: str
    sex: str
    age: int  # full years at the rechallenge start (at initial start if no rechallenge)
    smoking: str
    histology: str
    stage: str  # "" = not stage III/IV (early-stage disease, not in the enumeration)
    pdl1: float | None
    metastases: str
    lesions: tuple[Lesion, ...]
    init_start: date
    init_regimen: str
    init_agents: str
    init_ecog: int
    pfs1: int  # days from initial first dose to the progression scan
    rech_regimen: str = ""
    rech_agents: str = ""
    rech_ecog: int = 1
    rech_gap: int = 16  # days from the baseline scan to the rechallenge first dose
    rech_scans: tuple[Scan, ...] = ()  # the last one is the progression scan unless censored
    rech_censored: bool = False  # no progression: follow-up ends at the last scan
    interim: Line | None = None
    post_line: Line | None = None  # a line after the initial course that has no ICI
    driver: str = "none"
    recurrent: bool = False
    diagnosis_lag: int = 28  # days from diagnosis to initial first dose
    init_response: str = "PR"
    init_end: str = "progression"
    init_last_dose: int | None = None  # day of the last initial dose if not before the PD
    init_scan_days: tuple[int, ...] = ()  # override of the initial scan schedule
    death_day: int | None = None  # days after the rechallenge first dose
    follow_after: int = 45  # days of follow-up after the last scan for alive patients
    seen_before_cutoff: int | None = None  # alive and followed to this many days before cut-off
    rech_response_missing: bool = False  # no investigator best response for the rechallenge
    rech_last_dose_day: int | None = None
    rech_end: str | None = None
    rech_baseline_nontarget_only: bool = False
    pre_line: tuple[str, str, int] | None = None  # (regimen, agents, days) before initial ICI


def lung(n: int, size: int) -> Lesion:
    """A lung target lesion (primary tumour is ``T1``)."""
    return Lesion(f"T{n}", "lung", size)


def node(n: int, size: int) -> Lesion:
    """A nodal target lesion measured on its short axis."""
    return Lesion(f"T{n}", "lymph_node", size, nodal=True)


def organ(n: int, where: str, size: int) -> Lesion:
    """A non-nodal target lesion in another organ."""
    return Lesion(f"T{n}", where, size)


def nt(n: int, where: str) -> Lesion:
    """A non-target lesion."""
    return Lesion(f"NT{n}", where)


SD = Scan  # readability in the table: SD(day, factor) is a scan expected to read SD


def pd(day: int, factor: float, new: str | None = None) -> Scan:
    """The progression scan of a course (target growth, or a new lesion)."""
    return Scan(day, factor, new)


# --------------------------------------------------------------------------------------------
# Design table.  A-rows: ECOG PS 2 at rechallenge; B-rows: ECOG PS 0-1.  PFSR days and event
# (see DESIGN.md): A 36 41 51 60 98, B 74 84 88 125+ 187 236 316+ 385 (+ = censored).
# PD-L1 negative (TPS 0): A1 A2 A3 B4 B5.  PFS1 days: 105 126 140 151 160 171 182 208 229 262
# 298 341 407 (all events).
# --------------------------------------------------------------------------------------------

INCLUDE = "include"

# fmt: off
PATIENTS: tuple[Design, ...] = (
    # A1: ECOG 2, PD-L1 neg, PFS1 151, no interim; rechallenge PD at first scan d36; died d150.
    Design(
        "QZ-0004", INCLUDE, "A1", "male", 66, "current", "squamous", "IVA", 0, "lung",
        (lung(1, 38), lung(2, 17), node(3, 24)),
        date(2021, 3, 15), "Tislelizumab + paclitaxel + carboplatin",
        "tislelizumab;paclitaxel;carboplatin", 1, 151,
        "Sintilimab + docetaxel", "sintilimab;docetaxel", 2, 17,
        (pd(36, 1.30),), death_day=150,
    ),
    # A2: ECOG 2, PD-L1 neg, stage IIIB, PFS1 105, interim docetaxel; PD d41; died d118.
    Design(
        "QZ-0002", INCLUDE, "A2", "male", 69, "former", "squamous", "IIIB", 0, "",
        (lung(1, 46), node(2, 26)),
        date(2020, 9, 7), "Sintilimab + gemcitabine + cisplatin",
        "sintilimab;gemcitabine;cisplatin", 1, 105,
        "Camrelizumab + nab-paclitaxel", "camrelizumab;nab-paclitaxel", 2, 14,
        (pd(41, 1.30),), death_day=118,
        interim=Line("Docetaxel", "docetaxel", 84, 1),
    ),
    # A3: ECOG 2, PD-L1 neg, female never-smoker, PFS1 171; PD d51 by a new liver lesion.
    Design(
        "QZ-0008", INCLUDE, "A3", "female", 62, "never", "adenocarcinoma", "IVA", 0,
        "lung;pleura",
        (lung(1, 34), lung(2, 21), nt(1, "pleura")),
        date(2022, 4, 11), "Camrelizumab + pemetrexed + carboplatin",
        "camrelizumab;pemetrexed;carboplatin", 1, 171,
        "Tislelizumab + docetaxel", "tislelizumab;docetaxel", 2, 15,
        (pd(51, 1.04, new="liver"),), seen_before_cutoff=7,
    ),
    # A4: ECOG 2, PD-L1 5 %, PFS1 229, interim pemetrexed + carboplatin; PD d60; died d205.
    Design(
        "QZ-0006", INCLUDE, "A4", "male", 70, "former", "squamous", "IVB", 5, "bone;adrenal",
        (lung(1, 41), organ(2, "adrenal", 22), nt(1, "bone")),
        date(2021, 8, 2), "Pembrolizumab + paclitaxel + carboplatin",
        "pembrolizumab;paclitaxel;carboplatin", 1, 229,
        "Toripalimab + anlotinib", "toripalimab;anlotinib", 2, 12,
        (pd(60, 1.35),), death_day=205,
        interim=Line("Gemcitabine + carboplatin", "gemcitabine;carboplatin", 63, 1),
    ),
    # A5: ECOG 2, PD-L1 30 %, PFS1 140; rechallenge SD d49, PD d98.
    Design(
        "QZ-0011", INCLUDE, "A5", "male", 67, "current", "adenocarcinoma", "IVA", 30, "lung",
        (lung(1, 29), lung(2, 19), node(3, 21)),
        date(2022, 11, 14), "Sintilimab + pemetrexed + cisplatin",
        "sintilimab;pemetrexed;cisplatin", 1, 140,
        "Camrelizumab + anlotinib", "camrelizumab;anlotinib", 2, 18,
        (SD(49, 0.92), pd(98, 1.25)), seen_before_cutoff=12,
    ),
    # B1: ECOG 1, PD-L1 60 %, brain mets, PFS1 182, interim anlotinib; first rechallenge scan
    # d35 reads SD but is before the 42-day SD minimum, PD d74 -> best response PD; died d290.
    Design(
        "QZ-0001", INCLUDE, "B1", "male", 65, "former", "squamous", "IVB", 60, "brain;lung",
        (lung(1, 36), lung(2, 18), node(3, 23), nt(1, "brain")),
        date(2020, 6, 22), "Pembrolizumab", "pembrolizumab", 0, 182,
        "Camrelizumab + docetaxel", "camrelizumab;docetaxel", 1, 13,
        (SD(35, 0.95), pd(74, 1.30)), death_day=290,
        interim=Line("Anlotinib", "anlotinib", 91, 1),
    ),
    # B2: ECOG 1, PD-L1 15 %, female never-smoker, PFS1 126; SD d43, PD d84.
    Design(
        "QZ-0012", INCLUDE, "B2", "female", 58, "never", "adenocarcinoma", "IVA", 15, "pleura",
        (lung(1, 31), node(2, 25), nt(1, "pleura")),
        date(2023, 2, 6), "Tislelizumab + pemetrexed + carboplatin",
        "tislelizumab;pemetrexed;carboplatin", 1, 126,
        "Camrelizumab + pemetrexed", "camrelizumab;pemetrexed", 1, 16,
        (SD(43, 0.90), pd(84, 1.22)), seen_before_cutoff=20,
    ),
    # B3: ECOG 0, PD-L1 80 %, stage IIIC, PFS1 262, interim docetaxel; SD d45, PD d88.
    Design(
        "QZ-0007", INCLUDE, "B3", "male", 63, "current", "squamous", "IIIC", 80, "",
        (lung(1, 52), node(2, 28), node(3, 20)),
        date(2021, 11, 29), "Pembrolizumab", "pembrolizumab", 0, 262,
        "Tislelizumab + docetaxel", "tislelizumab;docetaxel", 0, 15,
        (SD(45, 0.85), pd(88, 1.15)), seen_before_cutoff=26,
        interim=Line("Docetaxel", "docetaxel", 84, 0),
    ),
    # B4: ECOG 1, PD-L1 neg, brain + liver mets, PFS1 208; SD throughout, censored d125 at
    # the data cut-off (last scan = last contact = 2024-12-01).
    Design(
        "QZ-0013", INCLUDE, "B4", "male", 69, "current", "adenocarcinoma", "IVB", 0,
        "brain;liver",
        (lung(1, 33), organ(2, "liver", 26), nt(1, "brain")),
        date(2023, 12, 16), "Sintilimab + pemetrexed + carboplatin",
        "sintilimab;pemetrexed;carboplatin", 1, 208,
        "Tislelizumab + pemetrexed", "tislelizumab;pemetrexed", 1, 18,
        (SD(42, 0.88), SD(84, 0.86), SD(125, 0.90)), rech_censored=True, follow_after=0,
    ),
    # B5: ECOG 1, PD-L1 neg, recurrent after surgery, PFS1 298, interim docetaxel; PD d187.
    Design(
        "QZ-0003", INCLUDE, "B5", "male", 68, "former", "squamous", "IVA", 0, "lung",
        (lung(1, 27), lung(2, 16), node(3, 19)),
        date(2020, 11, 16), "Camrelizumab + paclitaxel + carboplatin",
        "camrelizumab;paclitaxel;carboplatin", 1, 298,
        "Sintilimab + docetaxel", "sintilimab;docetaxel", 1, 14,
        (SD(44, 0.82), SD(90, 0.78), SD(138, 0.80), pd(187, 1.08)), seen_before_cutoff=33,
        interim=Line("Docetaxel", "docetaxel", 63, 1), recurrent=True, diagnosis_lag=840,
    ),
    # B6: ECOG 0, PD-L1 1 % (positive: TPS >= 1), female former smoker, bone + liver mets,
    # PFS1 160; long SD, PD d236 by a new adrenal lesion.
    Design(
        "QZ-0009", INCLUDE, "B6", "female", 60, "former", "adenocarcinoma", "IVB", 1,
        "bone;liver",
        (lung(1, 30), organ(2, "liver", 24), nt(1, "bone")),
        date(2022, 7, 4), "Pembrolizumab + pemetrexed + carboplatin",
        "pembrolizumab;pemetrexed;carboplatin", 0, 160,
        "Sintilimab + pemetrexed", "sintilimab;pemetrexed", 0, 16,
        (SD(42, 0.80), SD(91, 0.75), SD(140, 0.76), SD(189, 0.79), pd(236, 0.79, "adrenal")),
        seen_before_cutoff=41,
    ),
    # B7: ECOG 1, PD-L1 45 %, adenosquamous, PFS1 341, interim anlotinib; SD throughout,
    # censored d316 (last scan = last contact, lost to follow-up before the cut-off).
    Design(
        "QZ-0010", INCLUDE, "B7", "male", 70, "current", "adenosquamous", "IVA", 45, "lung",
        (lung(1, 35), lung(2, 15), node(3, 22)),
        date(2022, 10, 13), "Tislelizumab + pemetrexed + carboplatin",
        "tislelizumab;pemetrexed;carboplatin", 1, 341,
        "Camrelizumab + anlotinib", "camrelizumab;anlotinib", 1, 14,
        (SD(45, 0.90), SD(98, 0.85), SD(154, 0.84), SD(210, 0.86), SD(263, 0.85),
         SD(316, 0.87)),
        rech_censored=True, follow_after=0,
        interim=Line("Anlotinib", "anlotinib", 84, 1),
    ),
    # B8: ECOG 0, PD-L1 90 %, never-smoking man, liver + adrenal mets, PFS1 407; PD d385.
    Design(
        "QZ-0005", INCLUDE, "B8", "male", 67, "never", "adenocarcinoma", "IVB", 90,
        "liver;adrenal",
        (lung(1, 28), organ(2, "liver", 31), organ(3, "adrenal", 18)),
        date(2021, 5, 10), "Pembrolizumab", "pembrolizumab", 0, 407,
        "Tislelizumab", "tislelizumab", 0, 18,
        (SD(42, 0.90), SD(98, 0.80), SD(154, 0.75), SD(210, 0.74), SD(266, 0.76),
         SD(322, 0.78), pd(385, 1.02)),
        seen_before_cutoff=55,
    ),
    # ---------------------------------------------------------------- screen failures --------
    # (1) nsclc_advanced: early-stage (IIB) disease, stage blank and not recurrent.
    Design(
        "QZ-0014", "nsclc_advanced", "SF1", "male", 64, "former", "squamous", "", 20, "",
        (lung(1, 41), node(2, 24)),
        date(2021, 1, 18), "Sintilimab + gemcitabine + cisplatin",
        "sintilimab;gemcitabine;cisplatin", 0, 168,
        "Tislelizumab + docetaxel", "tislelizumab;docetaxel", 1, 16,
        (SD(45, 0.92), pd(112, 1.26)),
    ),
    # (2) no_driver: EGFR exon 19 deletion; osimertinib first, then ICI (ORIENT-31 style).
    Design(
        "QZ-0015", "no_driver", "SF2", "female", 59, "never", "adenocarcinoma", "IVA", 10,
        "lung",
        (lung(1, 27), lung(2, 14)),
        date(2021, 6, 14), "Sintilimab + bevacizumab + pemetrexed + cisplatin",
        "sintilimab;bevacizumab;pemetrexed;cisplatin", 1, 154,
        "Tislelizumab + docetaxel", "tislelizumab;docetaxel", 1, 16,
        (SD(44, 0.95), pd(91, 1.28)), driver="EGFR", diagnosis_lag=430,
        pre_line=("Osimertinib", "osimertinib", 380),
    ),
    # (3) has_rechallenge: responded to ICI, progressed, then docetaxel only (no second ICI).
    Design(
        "QZ-0016", "has_rechallenge", "SF3", "male", 66, "current", "squamous", "IVA", 35,
        "lung",
        (lung(1, 39), lung(2, 16)),
        date(2021, 9, 20), "Camrelizumab + paclitaxel + carboplatin",
        "camrelizumab;paclitaxel;carboplatin", 1, 196,
        post_line=Line("Docetaxel", "docetaxel", 84, 1),
    ),
    # (4a) acquired_resistance: best response SD on the initial course (primary resistance).
    Design(
        "QZ-0017", "acquired_resistance", "SF4a", "male", 61, "former", "adenocarcinoma", "IVB",
        25, "bone;liver",
        (lung(1, 33), organ(2, "liver", 21), nt(1, "bone")),
        date(2022, 1, 10), "Pembrolizumab + pemetrexed + carboplatin",
        "pembrolizumab;pemetrexed;carboplatin", 1, 147,
        "Sintilimab + anlotinib", "sintilimab;anlotinib", 1, 16,
        (SD(42, 0.94), pd(84, 1.25)), init_response="SD",
    ),
    # (4b) acquired_resistance: PR, course completed after 2 years (last dose d728),
    # progression 274 days (~9 months) after the last dose.
    Design(
        "QZ-0018", "acquired_resistance", "SF4b", "male", 67, "former", "squamous", "IVA", 70,
        "lung",
        (lung(1, 35), lung(2, 18), node(3, 21)),
        date(2020, 7, 6), "Pembrolizumab", "pembrolizumab", 0, 1002,
        "Tislelizumab", "tislelizumab", 1, 16,
        (SD(45, 0.90), SD(98, 0.88), pd(150, 1.20)), init_end="completed", init_last_dose=728,
        init_scan_days=(63, 126, 189, 252, 315, 378, 441, 504, 567, 630, 693, 756, 819, 882,
                        945, 1002),
    ),
    # (5) measurable_disease: only non-target lesions at the rechallenge baseline (targets
    # shrank below measurable size; progression was in the pleura).
    Design(
        "QZ-0019", "measurable_disease", "SF5", "female", 63, "never", "adenocarcinoma", "IVA",
        40, "pleura",
        (lung(1, 16), node(2, 16), nt(1, "pleura")),
        date(2022, 5, 23), "Camrelizumab + pemetrexed + carboplatin",
        "camrelizumab;pemetrexed;carboplatin", 1, 189,
        "Sintilimab + pemetrexed", "sintilimab;pemetrexed", 1, 7,
        (SD(49, 1.0), pd(98, 1.0, new="bone")), rech_baseline_nontarget_only=True,
        rech_response_missing=True,
    ),
    # (6) age_range: 78 years old at the rechallenge start.
    Design(
        "QZ-0020", "age_range", "SF6", "male", 78, "former", "squamous", "IVA", 50, "lung",
        (lung(1, 37), lung(2, 15)),
        date(2022, 8, 15), "Tislelizumab + paclitaxel + carboplatin",
        "tislelizumab;paclitaxel;carboplatin", 1, 133,
        "Sintilimab", "sintilimab", 1, 16,
        (SD(42, 0.93), pd(98, 1.30)),
    ),
    # (7a) initial_stop_reason: initial course stopped for immune-related pneumonitis
    # (last dose d105); progression 126 days later (within 6 months, otherwise AIR).
    Design(
        "QZ-0021", "initial_stop_reason", "SF7a", "male", 65, "current", "squamous", "IVB", 65,
        "bone;adrenal",
        (lung(1, 42), organ(2, "adrenal", 19), nt(1, "bone")),
        date(2022, 12, 5), "Sintilimab + gemcitabine + cisplatin",
        "sintilimab;gemcitabine;cisplatin", 1, 231,
        "Camrelizumab + docetaxel", "camrelizumab;docetaxel", 1, 16,
        (SD(44, 0.90), pd(91, 1.24)), init_end="irae", init_last_dose=105,
    ),
    # (7b) initial_stop_reason: stopped for bone-marrow suppression (last dose d84);
    # progression 98 days later.
    Design(
        "QZ-0022", "initial_stop_reason", "SF7b", "female", 69, "never", "adenocarcinoma",
        "IVA", 8, "lung",
        (lung(1, 26), lung(2, 13)),
        date(2023, 3, 13), "Camrelizumab + pemetrexed + carboplatin",
        "camrelizumab;pemetrexed;carboplatin", 1, 182,
        "Tislelizumab", "tislelizumab", 1, 16,
        (SD(45, 0.91), pd(90, 1.27)), init_end="marrow_suppression", init_last_dose=84,
    ),
    # (8) incomplete_data: one rechallenge dose, no scan after the rechallenge baseline, no
    # investigator best response (lost to follow-up).
    Design(
        "QZ-0023", "incomplete_data", "SF8", "male", 60, "former", "adenocarcinoma", "IVA", 55,
        "lung",
        (lung(1, 31), lung(2, 17)),
        date(2023, 5, 29), "Pembrolizumab + pemetrexed + carboplatin",
        "pembrolizumab;pemetrexed;carboplatin", 1, 140,
        "Tislelizumab + pemetrexed", "tislelizumab;pemetrexed", 1, 16,
        (), rech_censored=True, follow_after=27, rech_response_missing=True,
        rech_last_dose_day=0, rech_end="other",
    ),
    # (9) ecog_max: ECOG performance status 3 at the start of the rechallenge line.
    Design(
        "QZ-0024", "ecog_max", "SF9", "male", 68, "current", "squamous", "IVB", 30,
        "brain;bone",
        (lung(1, 44), node(2, 24), nt(1, "brain"), nt(2, "bone")),
        date(2023, 7, 17), "Tislelizumab + paclitaxel + carboplatin",
        "tislelizumab;paclitaxel;carboplatin", 1, 126,
        "Camrelizumab", "camrelizumab", 3, 16,
        (pd(35, 1.30),), death_day=64,
    ),
)

# fmt: on

# --------------------------------------------------------------------------------------------
# Adverse events (CTCAE v4.0) and laboratory results of the 13 included patients.
# phase "I" = initial ICI course, "R" = rechallenge course.  Each event is placed at the
# middle of the window between the first and the last dose of that course.
# Reported events: (design key, phase, term, grade, immune_related).
# --------------------------------------------------------------------------------------------

# fmt: off
AE_EVENTS: tuple[tuple[str, str, str, int, bool], ...] = (
    # initial phase: fatigue in 6 (one grade 3)
    ("A1", "I", "Fatigue", 1, False),
    ("A3", "I", "Fatigue", 2, False),
    ("A4", "I", "Fatigue", 3, False),
    ("B1", "I", "Fatigue", 1, False),
    ("B5", "I", "Fatigue", 2, False),
    ("B8", "I", "Fatigue", 1, False),
    # initial anemia reported: A4 grade 2 (lab grade 3 wins), B6 grade 1 (report only)
    ("A4", "I", "Anemia", 2, False),
    ("B6", "I", "Anemia", 1, False),
    # initial neutropenia reported: B4 grade 4 (also in labs)
    ("B4", "I", "Neutrophil count decreased", 4, False),
    # other, less frequent initial events
    ("A3", "I", "Rash maculo-papular", 1, True),
    ("B6", "I", "Rash maculo-papular", 1, True),
    ("B3", "I", "Hypothyroidism", 2, True),
    # rechallenge phase: fatigue in 4
    ("A2", "R", "Fatigue", 2, False),
    ("A5", "R", "Fatigue", 1, False),
    ("B6", "R", "Fatigue", 1, False),
    ("B7", "R", "Fatigue", 2, False),
    # rechallenge anemia reported: A3 grade 2 (report only), B8 grade 1 (lab grade 1 too)
    ("A3", "R", "Anemia", 2, False),
    ("B8", "R", "Anemia", 1, False),
    # other rechallenge events
    ("B7", "R", "Hypothyroidism", 1, True),
    ("B1", "R", "Rash maculo-papular", 1, True),
)

# Abnormal laboratory results: (design key, phase, hb value, hb unit, hb lln or None,
# neutrophils 10^9/L or None, leukocytes 10^9/L or None).  Missing values are normal.
LAB_EVENTS: tuple[tuple[str, str, float | None, str, float | None, float | None, float | None],
                  ...] = (
    # initial anemia from labs: A2 grade 3 (g/L), A4 grade 3 (g/dL; report grade 2),
    # B3 grade 2 (g/dL), B7 grade 1 (g/dL, default LLN 13 g/dL for men)
    ("A2", "I", 76, "g/L", 130, None, None),
    ("A4", "I", 7.8, "g/dL", None, None, None),
    ("B3", "I", 9.1, "g/dL", None, None, None),
    ("B7", "I", 11.4, "g/dL", None, None, None),
    # initial neutropenia: A5 grade 3 (WBC grade 2), B4 grade 4 (WBC grade 3), B8 grade 2
    # (WBC grade 1)
    ("A5", "I", None, "g/L", None, 0.8, 2.4),
    ("B4", "I", None, "g/dL", None, 0.4, 1.6),
    ("B8", "I", None, "g/L", None, 1.2, 3.2),
    # rechallenge anemia from labs: A1 grade 3, B2 grade 2 (g/L, woman), B5 grade 1 (g/L,
    # LLN 130), B8 grade 1 (g/dL; also reported grade 1)
    ("A1", "R", 7.6, "g/dL", None, None, None),
    ("B2", "R", 92, "g/L", 115, None, None),
    ("B5", "R", 118, "g/L", 130, None, None),
    ("B8", "R", 12.0, "g/dL", None, None, None),
    # rechallenge neutropenia: B3 grade 2 (WBC grade 1)
    ("B3", "R", None, "g/dL", None, 1.3, 3.3),
)

# Events of screen failures (not in the analysis set; shown for realism).
SF_AE_EVENTS: tuple[tuple[str, str, int, bool, int], ...] = (
    # (design key, term, grade, immune_related, days after the initial last dose)
    ("SF7a", "Pneumonitis", 3, True, 9),
    ("SF7b", "Neutrophil count decreased", 4, False, 6),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------

PATIENT_COLUMNS = (
    "patient_id",
    "sex",
    "birth_date",
    "smoking",
    "histology",
    "stage",
    "recurrent",
    "diagnosis_date",
    "driver",
    "pdl1_tps",
    "metastases",
    "last_contact_date",
    "death_date",
)
TREATMENT_COLUMNS = (
    "patient_id",
    "line",
    "regimen",
    "agents",
    "start_date",
    "last_dose_date",
    "end_reason",
    "ecog",
    "best_response",
    "progression_date",
)
LESION_COLUMNS = (
    "patient_id",
    "assessment_date",
    "lesion_id",
    "role",
    "organ",
    "lymph_node",
    "size_mm",
    "status",
)
AE_COLUMNS = ("patient_id", "term", "grade", "onset_date", "immune_related")
LAB_COLUMNS = ("patient_id", "date", "test", "value", "unit", "lln", "uln")

Row = dict[str, str]


def iso(d: date | None) -> str:
    """ISO date or empty string."""
    return "" if d is None else d.isoformat()


def round_mm(x: float) -> int:
    """Round half up to whole millimetres (deterministic, no banker's rounding)."""
    return int(x + 0.5)


def fmt_num(x: float) -> str:
    """Shortest plain representation of a number (``12`` or ``7.6``)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def birth_date(anchor: date, age: int) -> date:
    """A birth date giving exactly ``age`` full years at ``anchor`` (birthday ~4 months ago)."""
    d = anchor - timedelta(days=125)
    year = d.year - age
    day = min(d.day, 28)
    return date(year, d.month, day)


def initial_scan_days(design: Design) -> list[int]:
    """Follow-up scan days of the initial course: equal spacing <= 63 days, PD scan last."""
    if design.init_scan_days:
        return list(design.init_scan_days)
    n = -(-design.pfs1 // 63)  # ceiling
    return [round_mm(design.pfs1 * k / n) for k in range(1, n + 1)]


def initial_factors(design: Design, n: int) -> list[float]:
    """Target factors of the initial course: response, plateau, progression (x1.35 nadir)."""
    if design.init_response == "PR":
        plateau = [0.62] + [0.55 + 0.01 * (k % 3) for k in range(1, n - 1)]
    else:  # stable disease: never a 30 % decrease
        plateau = [0.92] + [0.88 + 0.01 * (k % 3) for k in range(1, n - 1)]
    return [*plateau, min(plateau) * 1.35]


def _lesion_rows(
    pid: str,
    when: date,
    targets: dict[str, int],
    lesions: Sequence[Lesion],
    *,
    nt_status: str = "present",
    nontarget_only: bool = False,
) -> list[Row]:
    rows: list[Row] = []
    for les in lesions:
        if les.size is not None:
            size = targets[les.lesion_id]
            role = "non_target" if nontarget_only else "target"
            rows.append(
                {
                    "patient_id": pid,
                    "assessment_date": iso(when),
                    "lesion_id": les.lesion_id,
                    "role": role,
                    "organ": les.organ,
                    "lymph_node": "yes" if les.nodal else "no",
                    "size_mm": "" if nontarget_only else str(size),
                    "status": "present" if nontarget_only else "",
                }
            )
        else:
            rows.append(
                {
                    "patient_id": pid,
                    "assessment_date": iso(when),
                    "lesion_id": les.lesion_id,
                    "role": "non_target",
                    "organ": les.organ,
                    "lymph_node": "no",
                    "size_mm": "",
                    "status": nt_status,
                }
            )
    return rows


def _new_lesion_row(pid: str, when: date, where: str) -> Row:
    return {
        "patient_id": pid,
        "assessment_date": iso(when),
        "lesion_id": "N1",
        "role": "new",
        "organ": where,
        "lymph_node": "no",
        "size_mm": "12",
        "status": "present",
    }


def _scaled(base: dict[str, int], factor: float) -> dict[str, int]:
    return {k: round_mm(v * factor) for k, v in base.items()}


def _last_q3w_dose(start: date, before: date) -> date:
    """Last 3-weekly dose at least 7 days before ``before`` (first dose if none fits)."""
    k = max(0, ((before - start).days - 7) // 21)
    return start + timedelta(days=21 * k)


@dataclass
class Built:
    """All rows generated for one patient plus key dates used for AEs and labs."""

    patient: Row
    treatments: list[Row]
    lesions: list[Row]
    windows: dict[str, tuple[date, date]]  # phase -> (first dose, last dose or end)
    init_last_dose: date


def build(design: Design) -> Built:
    """Turn one design row into CSV rows."""
    pid = design.pid
    lesions_rows: list[Row] = []
    treatments: list[Row] = []
    targets = {les.lesion_id: les.size for les in design.lesions if les.size is not None}
    sizes: dict[str, int] = dict(targets)  # current sizes
    line_no = 0

    def add_line(
        regimen: str,
        agents: str,
        start: date,
        last: date | None,
        end: str,
        ecog: int,
        bor: str,
        prog: date | None,
    ) -> None:
        nonlocal line_no
        line_no += 1
        treatments.append(
            {
                "patient_id": pid,
                "line": str(line_no),
                "regimen": regimen,
                "agents": agents,
                "start_date": iso(start),
                "last_dose_date": iso(last),
                "end_reason": end,
                "ecog": str(ecog),
                "best_response": bor,
                "progression_date": iso(prog),
            }
        )

    # ---- optional line before the initial ICI course (EGFR-TKI) ----
    s0 = design.init_start
    if design.pre_line is not None:
        reg, ag, pre_days = design.pre_line
        add_line(
            reg,
            ag,
            s0 - timedelta(days=pre_days),
            s0 - timedelta(days=30),
            "progression",
            1,
            "PR",
            s0 - timedelta(days=24),
        )

    # ---- initial ICI course ----
    lesions_rows += _lesion_rows(pid, s0 - timedelta(days=10), sizes, design.lesions)
    days = initial_scan_days(design)
    factors = initial_factors(design, len(days))
    base = dict(sizes)
    for i, (d, f) in enumerate(zip(days, factors, strict=True)):
        last = i == len(days) - 1
        cur = _scaled(base, f)
        nt_pd = last and design.rech_baseline_nontarget_only
        if nt_pd:  # progression in the pleura, targets stay at their nadir
            cur = _scaled(base, min(factors[:-1]))
        lesions_rows += _lesion_rows(
            pid,
            s0 + timedelta(days=d),
            cur,
            design.lesions,
            nt_status="progression" if nt_pd else "present",
        )
        sizes = cur
    pd1 = s0 + timedelta(days=design.pfs1)
    if design.init_last_dose is not None:
        init_last = s0 + timedelta(days=design.init_last_dose)
    else:
        init_last = _last_q3w_dose(s0, pd1)
    add_line(
        design.init_regimen,
        design.init_agents,
        s0,
        init_last,
        design.init_end,
        design.init_ecog,
        design.init_response,
        pd1,
    )
    windows = {"I": (s0, init_last)}
    last_scan = pd1

    # ---- interim therapy ----
    if design.interim is not None:
        it = design.interim
        i_start = last_scan + timedelta(days=it.gap_before)
        base = dict(sizes)
        sd_scan = i_start + timedelta(days=42)
        lesions_rows += _lesion_rows(pid, sd_scan, _scaled(base, 1.05), design.lesions)
        i_pd = i_start + timedelta(days=it.length)
        sizes = _scaled(base, 1.32)
        lesions_rows += _lesion_rows(pid, i_pd, sizes, design.lesions)
        i_last = i_pd - timedelta(days=7)
        add_line(it.regimen, it.agents, i_start, i_last, "progression", it.ecog, it.response, i_pd)
        last_scan = i_pd

    # ---- line without ICI after the initial course (screen failure 3) ----
    if design.post_line is not None:
        pl = design.post_line
        p_start = last_scan + timedelta(days=pl.gap_before)
        base = dict(sizes)
        lesions_rows += _lesion_rows(
            pid, p_start + timedelta(days=42), _scaled(base, 0.95), design.lesions
        )
        p_pd = p_start + timedelta(days=pl.length)
        lesions_rows += _lesion_rows(pid, p_pd, _scaled(base, 1.30), design.lesions)
        add_line(
            pl.regimen,
            pl.agents,
            p_start,
            p_pd - timedelta(days=7),
            "progression",
            pl.ecog,
            pl.response,
            p_pd,
        )
        last_contact = p_pd + timedelta(days=design.follow_after)
        anchor = s0
        death = None
    else:
        # ---- rechallenge course ----
        if design.rech_baseline_nontarget_only:
            # a separate baseline scan with only non-measurable disease
            last_scan = last_scan + timedelta(days=10)
            lesions_rows += _lesion_rows(pid, last_scan, sizes, design.lesions, nontarget_only=True)
        r_start = last_scan + timedelta(days=design.rech_gap)
        base = dict(sizes)
        prog: date | None = None
        bor = ""
        sd_seen = False
        for k, sc in enumerate(design.rech_scans):
            when = r_start + timedelta(days=sc.day)
            is_pd = (not design.rech_censored) and k == len(design.rech_scans) - 1
            lesions_rows += _lesion_rows(
                pid,
                when,
                _scaled(base, sc.factor),
                design.lesions,
                nontarget_only=design.rech_baseline_nontarget_only,
            )
            if sc.new is not None:
                lesions_rows.append(_new_lesion_row(pid, when, sc.new))
            if is_pd:
                prog = when
            elif sc.day >= 42:
                sd_seen = True
        if design.rech_scans:
            bor = "SD" if sd_seen else "PD"
        pd_scan = prog  # progression seen on the scans (ends the course)
        if design.rech_response_missing:  # no investigator assessment recorded
            bor = ""
            prog = None
        end_scan = r_start + timedelta(days=design.rech_scans[-1].day if design.rech_scans else 0)
        if design.rech_last_dose_day is not None:
            r_last: date | None = r_start + timedelta(days=design.rech_last_dose_day)
            r_end = design.rech_end or "other"
        elif pd_scan is not None:
            r_last = _last_q3w_dose(r_start, pd_scan)
            r_end = "progression"
        else:
            r_last = None
            r_end = "ongoing"
        add_line(
            design.rech_regimen,
            design.rech_agents,
            r_start,
            r_last,
            r_end,
            design.rech_ecog,
            bor,
            prog,
        )
        windows["R"] = (r_start, r_last if r_last is not None else end_scan)
        death = None if design.death_day is None else r_start + timedelta(days=design.death_day)
        if death is not None:
            last_contact = death
        elif design.seen_before_cutoff is not None:
            last_contact = CUTOFF - timedelta(days=design.seen_before_cutoff)
        else:
            last_contact = end_scan + timedelta(days=design.follow_after)
        anchor = r_start

    if last_contact > CUTOFF:
        last_contact = CUTOFF
    stage = design.stage
    diagnosis = s0 - timedelta(days=design.diagnosis_lag)
    if design.pre_line is not None:
        diagnosis = s0 - timedelta(days=design.pre_line[2] + 21)
    patient = {
        "patient_id": pid,
        "sex": design.sex,
        "birth_date": iso(birth_date(anchor, design.age)),
        "smoking": design.smoking,
        "histology": design.histology,
        "stage": stage,
        "recurrent": "yes" if design.recurrent else "no",
        "diagnosis_date": iso(diagnosis),
        "driver": design.driver,
        "pdl1_tps": "" if design.pdl1 is None else fmt_num(design.pdl1),
        "metastases": design.metastases,
        "last_contact_date": iso(last_contact),
        "death_date": iso(death),
    }
    return Built(patient, treatments, lesions_rows, windows, init_last)


def _day_in(window: tuple[date, date], num: int, den: int) -> date:
    """A date strictly inside the window (first dose, last dose)."""
    start, end = window
    span = (end - start).days
    offset = max(1, min(span - 1, span * num // den))
    return start + timedelta(days=offset)


def _cbc_rows(
    pid: str,
    when: date,
    male: bool,
    hb: float | None,
    hb_unit: str,
    hb_lln: float | None,
    anc: float | None,
    wbc: float | None,
) -> list[Row]:
    """Haemoglobin, neutrophils and leukocytes of one blood count (normal unless given)."""
    if hb is None:
        normal_dl = 14.2 if male else 13.4
        hb = normal_dl * 10 if hb_unit == "g/L" else normal_dl
    if hb_unit == "g/L":
        lln = "" if hb_lln is None else fmt_num(hb_lln)
        uln = "" if hb_lln is None else ("175" if male else "150")
    else:
        lln = "" if hb_lln is None else fmt_num(hb_lln)
        uln = ""
    return [
        {
            "patient_id": pid,
            "date": iso(when),
            "test": "hemoglobin",
            "value": fmt_num(hb),
            "unit": hb_unit,
            "lln": lln,
            "uln": uln,
        },
        {
            "patient_id": pid,
            "date": iso(when),
            "test": "neutrophils",
            "value": fmt_num(3.6 if anc is None else anc),
            "unit": "10^9/L",
            "lln": "1.8",
            "uln": "6.3",
        },
        {
            "patient_id": pid,
            "date": iso(when),
            "test": "leukocytes",
            "value": fmt_num(6.1 if wbc is None else wbc),
            "unit": "10^9/L",
            "lln": "3.5",
            "uln": "9.5",
        },
    ]


def build_all() -> dict[str, list[Row]]:
    """Build every table of the cohort."""
    tables: dict[str, list[Row]] = {
        k: [] for k in ("patients", "treatments", "lesions", "adverse_events", "labs")
    }
    by_key: dict[str, tuple[Design, Built]] = {}
    for design in sorted(PATIENTS, key=lambda d: d.pid):
        built = build(design)
        by_key[design.note] = (design, built)
        tables["patients"].append(built.patient)
        tables["treatments"] += built.treatments
        tables["lesions"] += built.lesions

    # adverse events of included patients
    for key, phase, term, grade, irae in AE_EVENTS:
        design, built = by_key[key]
        tables["adverse_events"].append(
            {
                "patient_id": design.pid,
                "term": term,
                "grade": str(grade),
                "onset_date": iso(_day_in(built.windows[phase], 2, 5)),
                "immune_related": "yes" if irae else "no",
            }
        )
    for key, term, grade, irae, after in SF_AE_EVENTS:
        design, built = by_key[key]
        tables["adverse_events"].append(
            {
                "patient_id": design.pid,
                "term": term,
                "grade": str(grade),
                "onset_date": iso(built.init_last_dose + timedelta(days=after)),
                "immune_related": "yes" if irae else "no",
            }
        )

    # labs: for every included patient and course, a normal count early in the course and a
    # second count at mid-course carrying the abnormal values of LAB_EVENTS (else normal).
    abnormal = {(e[0], e[1]): e[2:] for e in LAB_EVENTS}
    for index, design in enumerate(sorted(PATIENTS, key=lambda d: d.pid)):
        if design.intent != INCLUDE:
            continue
        built = by_key[design.note][1]
        male = design.sex == "male"
        for phase in ("I", "R"):
            window = built.windows[phase]
            unit = "g/L" if index % 2 == 0 else "g/dL"
            lln: float | None = (130 if male else 115) if unit == "g/L" else None
            tables["labs"] += _cbc_rows(
                design.pid, _day_in(window, 1, 5), male, None, unit, lln, None, None
            )
            spec = abnormal.get((design.note, phase))
            if spec is None:
                tables["labs"] += _cbc_rows(
                    design.pid, _day_in(window, 1, 2), male, None, unit, lln, None, None
                )
            else:
                hb, hb_unit, hb_lln, anc, wbc = spec
                tables["labs"] += _cbc_rows(
                    design.pid, _day_in(window, 1, 2), male, hb, str(hb_unit), hb_lln, anc, wbc
                )
    tables["adverse_events"].sort(key=lambda r: (r["patient_id"], r["onset_date"], r["term"]))
    tables["labs"].sort(key=lambda r: (r["patient_id"], r["date"]))
    tables["lesions"].sort(key=lambda r: (r["patient_id"], r["assessment_date"]))
    return tables


COLUMNS = {
    "patients": PATIENT_COLUMNS,
    "treatments": TREATMENT_COLUMNS,
    "lesions": LESION_COLUMNS,
    "adverse_events": AE_COLUMNS,
    "labs": LAB_COLUMNS,
}


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Write rows with a fixed column order, ``\\n`` line endings and UTF-8."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Write the synthetic seed cohort CSVs.")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in build_all().items():
        write_csv(args.out / f"{name}.csv", COLUMNS[name], rows)


if __name__ == "__main__":
    main()
