"""`rechallenge validate` on a copy of the example cohort with one defect of each class.

Each defect must give exactly one clear line naming its rule, and the command exits 1.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rechallenge.cli import app

COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
runner = CliRunner()

pytestmark = pytest.mark.skipif(not (COHORT / "patients.csv").exists(), reason="no cohort")


def read(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(folder: Path, table: str, rows: list[dict[str, str]]) -> None:
    with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def first(rows: list[dict[str, str]], **where: str) -> dict[str, str]:
    return next(r for r in rows if all(r[k] == v for k, v in where.items()))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    return Path(
        shutil.copytree(COHORT, tmp_path / "cohort", ignore=shutil.ignore_patterns("*.py", "*.md"))
    )


def break_every_class(folder: Path) -> list[str]:
    """Apply one defect per class; return the expected rule code of each."""
    patients, treatments = read(folder, "patients"), read(folder, "treatments")
    lesions, events, labs = (
        read(folder, "lesions"),
        read(folder, "adverse_events"),
        read(folder, "labs"),
    )
    expected: list[str] = []
    patients.append(dict(patients[-1]))  # duplicate patient_id
    expected.append("ID-001")
    patients[0]["diagnosis_date"] = patients[0]["diagnosis_date"][:7]  # partial date
    expected.append("DATE-003")
    patients[1]["diagnosis_date"] = "43976"  # an Excel serial number
    expected.append("DATE-001")
    patients[2]["smoking"] = "sometimes"  # unknown enumeration
    expected.append("ENUM-001")
    patients[3]["pdl1_tps"] = "150"  # PD-L1 TPS out of range
    expected.append("RANGE-001")
    patients[4]["histology"] = "small cell"  # small-cell histology
    expected.append("HIST-001")
    by_patient: dict[str, list[dict[str, str]]] = {}
    for row in treatments:
        by_patient.setdefault(row["patient_id"], []).append(row)
    multi = [rows for rows in by_patient.values() if len(rows) >= 3]
    multi[0][2]["line"] = multi[0][1]["line"]  # duplicate (patient_id, line)
    expected.append("LINE-001")
    multi[1][1]["start_date"] = "2019-01-01"  # line 2 starts before line 1
    expected.append("LINE-002")
    multi[2][0]["last_dose_date"] = "2020-01-01"  # last dose before the first dose
    expected.append("DATE-ORDER-001")
    multi[3][0]["ecog"] = "7"  # ECOG outside 0-5
    expected.append("RANGE-001")
    multi[4][0]["agents"] = "pembrolizumb"  # unknown drug name
    expected.append("DRUG-001")
    lesions[0]["size_mm"] = "-12"  # negative size
    expected.append("RANGE-001")
    lesions[1]["size_mm"] = "abc"  # non-numeric size
    expected.append("NUM-001")
    labs[0]["patient_id"] = "QZ-9999"  # lab row for an unknown patient
    expected.append("REL-001")
    labs[1]["unit"] = "mg/furlong"  # unknown lab unit
    expected.append("LAB-001")
    dead = first(
        patients,
        patient_id=next(
            p["patient_id"]
            for p in patients
            if p["death_date"] and any(e["patient_id"] == p["patient_id"] for e in events)
        ),
    )
    event = first(events, patient_id=dead["patient_id"])
    event["onset_date"] = "2024-11-30"  # an event after death
    expected.append("DEATH-002")
    for table, rows in (
        ("patients", patients),
        ("treatments", treatments),
        ("lesions", lesions),
        ("adverse_events", events),
        ("labs", labs),
    ):
        write(folder, table, rows)
    return expected


def test_one_line_per_defect_and_exit_1(copy: Path) -> None:
    expected = break_every_class(copy)
    result = runner.invoke(app, ["validate", str(copy)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert sorted(line.split("]")[0][1:] for line in lines) == sorted(expected)
    assert all("Fix:" in line for line in lines)
    assert "QZ-" not in result.output  # identifiers stay hidden


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda f: (f / "treatments.csv").unlink(), "TABLE-001"),
        (lambda f: (f / "labs.csv").write_text("", encoding="utf-8"), "FILE-004"),
        (
            lambda f: (f / "patients.csv").write_text(
                (f / "patients.csv").read_text(encoding="utf-8").replace("patient_id", "pt_id", 1),
                encoding="utf-8",
            ),
            "COL-001",
        ),
        (
            lambda f: (f / "adverse_events.csv").write_bytes(
                (f / "adverse_events.csv")
                .read_text(encoding="utf-8")
                .replace("Fatigue", "Fatigué")
                .encode("cp1252")
            ),
            "FILE-002",
        ),
    ],
)
def test_structural_defects(copy: Path, damage, code: str) -> None:  # type: ignore[no-untyped-def]
    damage(copy)
    result = runner.invoke(app, ["validate", str(copy)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert [line.split("]")[0][1:] for line in lines] == [code]


def test_bom_is_accepted(copy: Path) -> None:
    path = copy / "patients.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert runner.invoke(app, ["validate", str(copy)]).exit_code == 0
