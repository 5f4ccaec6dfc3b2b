"""The input contract as data: every table, column, type, permitted values and range.

This mirrors `docs/data-model.md`. Validation, reading and the config template all read
these specifications, so the contract is stated once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column's cells are parsed."""

    TEXT = "text"
    ID = "id"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    ENUM = "enum"
    ENUM_LIST = "enum_list"
    DRUG_LIST = "drug_list"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract: its parser, whether it must be present and filled, limits."""

    name: str
    kind: Kind
    required: bool = False  # the column must exist
    non_null: bool = False  # every cell must be filled
    values: tuple[str, ...] = ()  # permitted values, canonical spelling (ENUM, ENUM_LIST)
    minimum: float | None = None
    maximum: float | None = None
    identifying: bool = False  # values that identify a patient are hidden unless --show-ids
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One table of the contract."""

    name: str
    required: bool
    columns: tuple[ColumnSpec, ...]
    description: str = ""

    def column(self, name: str) -> ColumnSpec:
        """The spec of column `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of every column in the contract, in order."""
        return tuple(c.name for c in self.columns)


def _patient_id() -> ColumnSpec:
    return ColumnSpec(
        "patient_id",
        Kind.ID,
        required=True,
        non_null=True,
        identifying=True,
        description="patient identifier; never shown in reports unless asked",
    )


HISTOLOGIES = ("adenocarcinoma", "squamous", "adenosquamous", "large_cell", "nos", "other")
SMALL_CELL_SPELLINGS = ("small_cell", "small cell", "sclc", "small-cell", "small cell carcinoma")
STAGES = ("IIIA", "IIIB", "IIIC", "IVA", "IVB")
DRIVERS = ("none", "EGFR", "ALK", "ROS1", "KRAS", "BRAF", "MET", "RET", "NTRK", "HER2", "unknown")
METASTASIS_SITES = (
    "lung",
    "brain",
    "bone",
    "liver",
    "adrenal",
    "pleura",
    "lymph_node",
    "other",
)
END_REASONS = (
    "progression",
    "toxicity",
    "irae",
    "marrow_suppression",
    "clinical_decision",
    "completed",
    "patient_choice",
    "death",
    "ongoing",
    "other",
)
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
LAB_TESTS = (
    "hemoglobin",
    "neutrophils",
    "leukocytes",
    "lymphocytes",
    "platelets",
    "alt",
    "ast",
    "bilirubin",
    "creatinine",
)

#: Unit spellings accepted per lab test (compared after lower-casing and removing spaces).
#: The CTCAE engine converts each of them; a test keeps the two lists in step.
CELL_COUNT_UNITS = (
    "10^9/l", "10*9/l", "x10^9/l", "/mm3", "cells/mm3",
    "10^3/µl", "10^3/ul", "/µl", "/ul", "cells/µl", "cells/ul",
)  # fmt: skip
ENZYME_UNITS = ("u/l", "iu/l", "µkat/l", "ukat/l")
MICROMOLAR_OR_MG_DL = ("µmol/l", "umol/l", "mg/dl")
LAB_UNITS: dict[str, tuple[str, ...]] = {
    "hemoglobin": ("g/dl", "g/l", "mmol/l"),
    "neutrophils": CELL_COUNT_UNITS,
    "leukocytes": CELL_COUNT_UNITS,
    "lymphocytes": CELL_COUNT_UNITS,
    "platelets": CELL_COUNT_UNITS,
    "alt": ENZYME_UNITS,
    "ast": ENZYME_UNITS,
    "bilirubin": MICROMOLAR_OR_MG_DL,
    "creatinine": MICROMOLAR_OR_MG_DL,
}

#: Plausible body measurements (inclusive): outside them a value is a unit or typing error
#: (RANGE-001); a BMI outside `BMI_PLAUSIBLE` from values inside them is BODY-001 (height in
#: inches, weight in pounds?).
HEIGHT_CM = (100.0, 250.0)
WEIGHT_KG = (20.0, 300.0)
BMI_PLAUSIBLE = (10.0, 70.0)

#: Cell-count units as multiples of 10^9/L (for ratios of counts in different units).
CELL_COUNT_PER_10_9_L: dict[str, float] = {
    "10^9/l": 1.0, "10*9/l": 1.0, "x10^9/l": 1.0, "10^3/µl": 1.0, "10^3/ul": 1.0,
    "/mm3": 1000.0, "cells/mm3": 1000.0, "/µl": 1000.0, "/ul": 1000.0,
    "cells/µl": 1000.0, "cells/ul": 1000.0,
}  # fmt: skip

#: Largest plausible lesion diameter (bad-inputs R5): a larger unit-less value is an error.
MAX_LESION_MM = 300.0

#: Plausible result ranges per lab test and unit (bad-inputs L1), inclusive, keyed by the
#: normalised unit (`parse.normalise_unit`). A value outside them is implausible for the
#: declared unit (haemoglobin 142 g/dL is 142 g/L in the wrong unit); reference limits
#: (LLN, ULN) must lie inside them too. The bounds are physiological extremes compatible
#: with life, wide on purpose: they catch unit and typing errors, not abnormal results.
_CELLS_10_9 = {"10^9/l": 1.0, "10*9/l": 1.0, "x10^9/l": 1.0, "10^3/µl": 1.0, "10^3/ul": 1.0}
_CELLS_MM3 = {"/mm3": 1000.0, "cells/mm3": 1000.0, "/µl": 1000.0, "/ul": 1000.0}
_CELLS_MM3 |= {"cells/µl": 1000.0, "cells/ul": 1000.0}
_CELL_UPPER = {"neutrophils": 200.0, "leukocytes": 500.0, "lymphocytes": 500.0, "platelets": 3000.0}
LAB_PLAUSIBLE: dict[str, dict[str, tuple[float, float]]] = {
    "hemoglobin": {"g/dl": (1.0, 25.0), "g/l": (10.0, 250.0), "mmol/l": (0.6, 15.5)},
    **{
        test: {unit: (0.0, upper * factor) for unit, factor in (_CELLS_10_9 | _CELLS_MM3).items()}
        for test, upper in _CELL_UPPER.items()
    },
    **{
        test: {"u/l": (0.0, 20000.0), "iu/l": (0.0, 20000.0), "µkat/l": (0.0, 333.0)}
        for test in ("alt", "ast")
    },
    "bilirubin": {"µmol/l": (0.0, 1000.0), "umol/l": (0.0, 1000.0), "mg/dl": (0.0, 60.0)},
    "creatinine": {"µmol/l": (5.0, 3000.0), "umol/l": (5.0, 3000.0), "mg/dl": (0.05, 35.0)},
}

PATIENTS = TableSpec(
    "patients",
    required=True,
    description="one row per patient",
    columns=(
        _patient_id(),
        ColumnSpec("sex", Kind.ENUM, required=True, non_null=True, values=("male", "female")),
        ColumnSpec("birth_date", Kind.DATE, required=True, non_null=True, identifying=True),
        ColumnSpec("smoking", Kind.ENUM, values=("never", "former", "current")),
        ColumnSpec("histology", Kind.ENUM, required=True, non_null=True, values=HISTOLOGIES),
        ColumnSpec("stage", Kind.ENUM, values=STAGES),
        ColumnSpec("recurrent", Kind.BOOL),
        ColumnSpec("diagnosis_date", Kind.DATE, identifying=True),
        ColumnSpec("driver", Kind.ENUM, values=DRIVERS),
        ColumnSpec("pdl1_tps", Kind.NUMBER, minimum=0, maximum=100),
        ColumnSpec(
            "pdl1_retest_tps",
            Kind.NUMBER,
            minimum=0,
            maximum=100,
            description="PD-L1 TPS (%) of a re-biopsy before the rechallenge; the latest one "
            "before its first dose, with pdl1_retest_date",
        ),
        ColumnSpec(
            "pdl1_retest_date",
            Kind.DATE,
            identifying=True,
            description="date of the re-biopsy whose TPS is pdl1_retest_tps",
        ),
        ColumnSpec(
            "height_cm",
            Kind.NUMBER,
            minimum=HEIGHT_CM[0],
            maximum=HEIGHT_CM[1],
            description="height in cm (for BMI)",
        ),
        ColumnSpec(
            "weight_kg",
            Kind.NUMBER,
            minimum=WEIGHT_KG[0],
            maximum=WEIGHT_KG[1],
            description="weight in kg at the start of the rechallenge (for BMI)",
        ),
        ColumnSpec("metastases", Kind.ENUM_LIST, values=METASTASIS_SITES),
        ColumnSpec("last_contact_date", Kind.DATE, required=True, non_null=True, identifying=True),
        ColumnSpec("death_date", Kind.DATE, identifying=True),
    ),
)

TREATMENTS = TableSpec(
    "treatments",
    required=True,
    description="one row per line of systemic therapy",
    columns=(
        _patient_id(),
        ColumnSpec("line", Kind.INTEGER, required=True, non_null=True, minimum=1),
        ColumnSpec("regimen", Kind.TEXT),
        ColumnSpec("agents", Kind.DRUG_LIST, required=True, non_null=True),
        ColumnSpec("start_date", Kind.DATE, required=True, non_null=True, identifying=True),
        ColumnSpec("last_dose_date", Kind.DATE, identifying=True),
        ColumnSpec("end_reason", Kind.ENUM, values=END_REASONS),
        ColumnSpec("ecog", Kind.INTEGER, minimum=0, maximum=5),
        ColumnSpec("best_response", Kind.ENUM, values=RESPONSES),
        ColumnSpec("progression_date", Kind.DATE, identifying=True),
    ),
)

LESIONS = TableSpec(
    "lesions",
    required=False,
    description="RECIST 1.1 measurements, one row per lesion per assessment",
    columns=(
        _patient_id(),
        ColumnSpec("assessment_date", Kind.DATE, required=True, non_null=True, identifying=True),
        ColumnSpec("lesion_id", Kind.TEXT, required=True, non_null=True),
        ColumnSpec(
            "role", Kind.ENUM, required=True, non_null=True, values=("target", "non_target", "new")
        ),
        ColumnSpec("organ", Kind.TEXT),
        ColumnSpec("lymph_node", Kind.BOOL),
        ColumnSpec(
            "size_mm",
            Kind.NUMBER,
            minimum=0,
            maximum=MAX_LESION_MM,
            description="diameters are in mm; above 300 mm is no plausible lesion, so a unit "
            "or typing error",
        ),
        ColumnSpec("status", Kind.ENUM, values=("present", "absent", "progression", "equivocal")),
    ),
)

ADVERSE_EVENTS = TableSpec(
    "adverse_events",
    required=False,
    description="one row per reported adverse event",
    columns=(
        _patient_id(),
        ColumnSpec("term", Kind.TEXT, required=True, non_null=True),
        ColumnSpec("grade", Kind.INTEGER, required=True, non_null=True, minimum=1, maximum=5),
        ColumnSpec("onset_date", Kind.DATE, required=True, non_null=True, identifying=True),
        ColumnSpec("immune_related", Kind.BOOL),
    ),
)

LABS = TableSpec(
    "labs",
    required=False,
    description="one row per laboratory result",
    columns=(
        _patient_id(),
        ColumnSpec("date", Kind.DATE, required=True, non_null=True, identifying=True),
        ColumnSpec("test", Kind.ENUM, required=True, non_null=True, values=LAB_TESTS),
        ColumnSpec("value", Kind.NUMBER, required=True, non_null=True, minimum=0),
        ColumnSpec("unit", Kind.TEXT, required=True, non_null=True),
        ColumnSpec("lln", Kind.NUMBER, minimum=0),
        ColumnSpec("uln", Kind.NUMBER, minimum=0),
    ),
)

TABLES: tuple[TableSpec, ...] = (PATIENTS, TREATMENTS, LESIONS, ADVERSE_EVENTS, LABS)
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
