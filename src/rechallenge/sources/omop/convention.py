"""The project convention for what OMOP CDM v5.4 has no home for (docs/omop.md, "Convention").

`rechallenge convert` writes a study by this convention and declares it with one `metadata`
row (metadata_concept_id 0, name `rechallenge_convention`, value_as_string the version). The
reader uses it only where the instance declares it, or where `omop.convention` switches it
on; a real instance without it is read by the reference mapping alone (reference omop-cdm.md).

Version 1, field by field (every field exists in CDM v5.4):

- person: `person_source_value` = our patient_id (person_id is a running integer);
- the diagnosis: the lung-cancer `condition_occurrence` row; `condition_source_value` = our
  histology word; a study without a diagnosis date dates it at the first known date and sets
  `condition_status_source_value` = `no_diagnosis_date`;
- last contact: the `visit_occurrence` row with `visit_source_value` = `last_contact`;
- driver `unknown`: an EGFR gene measurement valued 0 (neither positive nor negative);
- PD-L1 TPS and its re-test, height and weight: measurements of site-local concepts
  (`PDL1`, `PDL1_RETEST`, `HEIGHT`, `WEIGHT`);
- treatment lines: `episode` 32531 *Treatment Regimen*, `episode_number` = line,
  `episode_start_date` = start, `episode_end_date` = last dose (NULL when blank),
  `episode_source_value` = regimen; its administrations linked by `episode_event`
  (field 1147094 drug_exposure_id), in agent order, `drug_source_value` = the agent as
  written; the line's end reason in `stop_reason` of its last administration;
- ECOG (measurement) and best response (observation valued with a disease-status concept)
  of a line: dated at its start and linked to its episode by `measurement_event_id` /
  `observation_event_id` with field concept `EPISODE_FIELD`;
- progression: `episode` 32677 *Disease Progression* whose `episode_number` = the line it ends;
- lesions: `measurement` 4139794 *Tumor size*, unit 8588 mm, value_as_number = size_mm,
  measurement_date = assessment date, `measurement_source_value` = lesion_id,
  `value_source_value` = `role|lymph_node|status|organ` (blank parts empty);
- adverse events: `condition_occurrence` rows of type 32809 *Case Report Form*,
  condition_concept_id 0, `condition_source_value` = the CTCAE term,
  `condition_start_date` = onset, `condition_status_source_value` = `grade|immune_related`;
- labs: value, `unit_source_value` (our unit as written), range_low/range_high as LLN/ULN,
  unit_concept_id where the unit has a UCUM concept.
"""

from __future__ import annotations

NAME = "rechallenge_convention"
VERSION = "1"

EHR = 32817  # type concept: EHR
CRF = 32809  # type concept: Case Report Form (trial AEs)
DRUG_TYPE = 32818  # EHR administration record
LOCAL = 2_000_000_000  # site-local concept ids (reference ids marked unverified)
ECOG = LOCAL + 1  # LOINC 89247-1, resolved by code
PDL1 = LOCAL + 2  # PD-L1 tumour proportion score (%)
DISEASE_STATUS_OBS = LOCAL + 3  # cancer disease status observation
PDL1_RETEST = LOCAL + 4  # PD-L1 TPS of a re-biopsy before the rechallenge
HEIGHT = LOCAL + 5  # body height (LOINC 8302-2), cm
WEIGHT = LOCAL + 6  # body weight (LOINC 29463-7), kg
NOT_EVALUABLE = LOCAL + 7  # disease-status answer "not evaluable"
EPISODE_FIELD = LOCAL + 8  # field concept "episode.episode_id" (standard id unverified)
STAGE_IDS = {
    "IIIA": LOCAL + 11,
    "IIIB": LOCAL + 12,
    "IIIC": LOCAL + 13,
    "IVA": LOCAL + 14,
    "IVB": LOCAL + 15,
}
ADENOSQUAMOUS = LOCAL + 21  # ICDO3 8560/3-C34.9, resolved by code
OTHER_HISTOLOGY = LOCAL + 22  # a lung carcinoma of another histology

TREATMENT_REGIMEN = 32531
DRUG_EXPOSURE_FIELD = 1147094  # episode_event field: drug_exposure.drug_exposure_id
CONDITION_FIELD = 1147127  # measurement event field: condition_occurrence_id
TUMOR_SIZE = 4139794
MILLIMETRE = 8588
CENTIMETRE = 8582
KILOGRAM = 9529
LAST_CONTACT = "last_contact"
NO_DIAGNOSIS_DATE = "no_diagnosis_date"
UNKNOWN_RESULT = 0  # value_as_concept_id of a gene test with no result

HISTOLOGY = {
    "adenocarcinoma": 4112738,
    "squamous": 4110705,
    "large_cell": 4110589,
    "nos": 4115276,
    "adenosquamous": ADENOSQUAMOUS,
    "other": OTHER_HISTOLOGY,
}
SEX = {"male": 8507, "female": 8532}
SMOKING = {"current": 36309332, "former": 45883458, "never": 45879404}
METASTASIS = {
    "lung": 36770283,
    "bone": 36769301,
    "adrenal": 35225568,
    "pleura": 35226258,
    "brain": 35918692,
    "liver": 35918290,
    "lymph_node": 35918491,  # NAACCR distant lymph node(s)
    "other": 35918527,  # NAACCR other distant site(s)
}
RESPONSE = {"CR": 32946, "PR": 32947, "SD": 32948, "PD": 32949, "NE": NOT_EVALUABLE}
DRIVER = {
    "EGFR": 35962802,
    "ALK": 35963763,
    "ROS1": 35957723,
    "KRAS": 35948791,
    "BRAF": 35948173,
    "MET": 35961878,
    "RET": 35952943,
    "HER2": 35955862,
    "NTRK": 35951557,
}
POSITIVE, NEGATIVE = 9191, 9189
INGREDIENT = {
    "pembrolizumab": (45775965, "RxNorm", "1547545"),
    "nivolumab": (45892628, "RxNorm", "1597876"),
    "atezolizumab": (42629079, "RxNorm", "1792776"),
    "durvalumab": (1594034, "RxNorm", "1919503"),
    "cemiplimab": (35200783, "RxNorm", "2058826"),
    "avelumab": (1593273, "RxNorm", "1875534"),
    "ipilimumab": (40238188, "RxNorm", "1094833"),
    "sintilimab": (36854475, "RxNorm Extension", "OMOP5172091"),
    "camrelizumab": (36853469, "RxNorm Extension", "OMOP5171084"),
    "tislelizumab": (36848998, "RxNorm Extension", "OMOP5166614"),
    "toripalimab": (747052, "RxNorm", "2669406"),
    "cisplatin": (1397599, "RxNorm", "2555"),
    "carboplatin": (1344905, "RxNorm", "40048"),
    "pemetrexed": (1304919, "RxNorm", "68446"),
    "paclitaxel": (1378382, "RxNorm", "56946"),
    "docetaxel": (1315942, "RxNorm", "72962"),
    "gemcitabine": (1314924, "RxNorm", "12574"),
    "bevacizumab": (1397141, "RxNorm", "253337"),
}
LAB = {
    "hemoglobin": 3000963,
    "neutrophils": 3013650,
    "leukocytes": 3000905,
    "lymphocytes": 3004327,
    "platelets": 3024929,
    "alt": 3006923,
    "ast": 3013721,
    "bilirubin": 3024128,
    "creatinine": 3016723,
}
#: Our unit spelling (lower case, no spaces) → unit_concept_id (reference §1 labs, units).
UNIT = {
    "g/dl": 8713,
    "g/l": 8636,
    "10^9/l": 9444,
    "10*9/l": 9444,
    "x10^9/l": 9444,
    "10^3/µl": 8848,
    "10^3/ul": 8848,
    "/mm3": 8785,
    "cells/mm3": 8785,
    "/µl": 8647,
    "/ul": 8647,
    "cells/µl": 8784,
    "cells/ul": 8784,
    "u/l": 8645,
    "iu/l": 8923,
    "mg/dl": 8840,
    "µmol/l": 8749,
    "umol/l": 8749,
}
