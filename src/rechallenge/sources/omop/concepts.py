"""OMOP concept ids used to read a study (shared/reference/omop-cdm.md; ✔ ids only).

Ids that the reference marks unverified are not listed: they are resolved at run time from
`(vocabulary_id, concept_code)` through the `concept` table (`CODED`).
"""

from __future__ import annotations

SEX = {8507: "male", 8532: "female"}

# Histology (SNOMED conditions), reference §1 patients.histology.
NSCLC_ROOT = 4115276  # Non-small cell lung cancer (254637007)
HISTOLOGY = {
    4115276: "nos",
    4112738: "adenocarcinoma",
    4110705: "squamous",
    4110589: "large_cell",
}
SMALL_CELL = 4110591  # small cell carcinoma of lung: read as a data error, never NSCLC
# ICD-O-3 morphology prefixes (concept_code `morphology-topography`).
ICDO3_HISTOLOGY = {
    "8140/3": "adenocarcinoma",
    "8070/3": "squamous",
    "8560/3": "adenosquamous",
    "8012/3": "large_cell",
    "8046/3": "nos",
}

SMOKING_STATUS = 43054909  # Tobacco smoking status (LOINC 72166-2)
SMOKING_ANSWERS = {36309332: "current", 45883458: "former", 45879404: "never"}

# Metastasis sites (Cancer Modifier and NAACCR item concepts with ✔ ids).
METASTASIS = {
    36770283: "lung",
    36769301: "bone",
    35225568: "adrenal",
    35226258: "pleura",
    35918581: "bone",
    35918692: "brain",
    35918290: "liver",
    35918559: "lung",
}

# Gene variant measurements (OMOP Genomic), reference §1 patients.driver.
DRIVER_GENES = {
    35962802: "EGFR",
    35963763: "ALK",
    35957723: "ROS1",
    35948791: "KRAS",
    35948173: "BRAF",
    35961878: "MET",
    35952943: "RET",
    35955862: "HER2",
    35951557: "NTRK",
    35949322: "NTRK",
    35951499: "NTRK",
}
POSITIVE = 9191  # Meas Value "Positive"
NEGATIVE = 9189  # Meas Value "Negative"

# Resolved from the concept table by code (ids marked unverified in the reference).
CODED = {
    "ecog": ("LOINC", "89247-1"),  # ECOG Performance Status score
}
STAGE_CODE_PATTERN = (
    r"Stage-(3A|3B|3C|4A|4B)"  # Cancer Modifier codes, e.g. c-8th_AJCC/UICC-Stage-4A
)
STAGE_FROM_CODE = {"3A": "IIIA", "3B": "IIIB", "3C": "IIIC", "4A": "IVA", "4B": "IVB"}

# Episodes (Oncology extension).
EPISODE_DISEASE_PROGRESSION = 32677
EPISODE_FIRST_OCCURRENCE = 32528
EPISODE_RECURRENCE = 32529

# Disease-status answers (best response), reference §1 treatments.best_response.
DISEASE_STATUS = {32946: "CR", 32947: "PR", 32948: "SD", 32949: "PD"}
RESPONSE_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}

# Drug ingredients (RxNorm / RxNorm Extension), reference "Drug concept sets".
INGREDIENTS: dict[int, str] = {
    45775965: "pembrolizumab",
    45892628: "nivolumab",
    42629079: "atezolizumab",
    1594034: "durvalumab",
    35200783: "cemiplimab",
    1593273: "avelumab",
    40238188: "ipilimumab",
    36854475: "sintilimab",
    36853469: "camrelizumab",
    36848998: "tislelizumab",
    747052: "toripalimab",
    36861273: "serplulimab",
    36858261: "penpulimab",
    36854773: "sugemalimab",
    36857081: "envafolimab",
    36849791: "adebrelimab",
    1397599: "cisplatin",
    1344905: "carboplatin",
    1304919: "pemetrexed",
    1378382: "paclitaxel",
    1315942: "docetaxel",
    1314924: "gemcitabine",
    1397141: "bevacizumab",
}

# Labs: measurement concept → test (reference §1 labs).
LAB_TESTS = {
    3000963: "hemoglobin",
    3000905: "leukocytes",
    3010813: "leukocytes",
    3013650: "neutrophils",
    3017732: "neutrophils",
    3004327: "lymphocytes",
    3024929: "platelets",
    3007461: "platelets",
    3006923: "alt",
    3013721: "ast",
    3024128: "bilirubin",
    3028833: "bilirubin",
    3016723: "creatinine",
    3051825: "creatinine",
}
# unit_concept_id → (our unit text, factor applied to value and range).
UNITS: dict[int, tuple[str, float]] = {
    8713: ("g/dL", 1.0),
    8636: ("g/L", 1.0),
    9444: ("10^9/L", 1.0),
    44777588: ("10^9/L", 1.0),
    8848: ("10^9/L", 1.0),
    8961: ("10^9/L", 1.0),
    8816: ("10^9/L", 1.0),
    8647: ("10^9/L", 0.001),
    8785: ("10^9/L", 0.001),
    8784: ("10^9/L", 0.001),
    8645: ("U/L", 1.0),
    8923: ("U/L", 1.0),
    8840: ("mg/dL", 1.0),
    8749: ("umol/L", 1.0),
}
# UCUM codes accepted through `unit_aliases` (unit_source_value → UCUM).
UCUM: dict[str, tuple[str, float]] = {
    "g/dL": ("g/dL", 1.0),
    "g/L": ("g/L", 1.0),
    "10*9/L": ("10^9/L", 1.0),
    "10*3/uL": ("10^9/L", 1.0),
    "/uL": ("10^9/L", 0.001),
    "[U]/L": ("U/L", 1.0),
    "mg/dL": ("mg/dL", 1.0),
    "umol/L": ("umol/L", 1.0),
}
PERCENT = 8554
OPERATOR_EQUAL = 4172703
