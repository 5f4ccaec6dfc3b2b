"""The worked examples of docs/data-sources.md, built from the example cohort.

`tests/hospital/data/examples/` holds, built by the same rules the tests use:

- ``redcap-export.csv``: the cohort as REDCap's raw CSV export of a project made from
  ``rechallenge template --redcap`` (`test_redcap.build_export`);
- ``sdtm/``: the cohort as SDTM CSV domains (`test_sdtm.sdtm_from_cohort`);
- ``hospital-export/`` and ``hospital-export.yaml``: the cohort as a European hospital
  export (``;``, decimal commas, dd/mm/yyyy, M/F, ``Pt_ID``, labs.csv in cp1252) and the
  ``data:`` declaration that reads it (`test_validate_cli.hospital_export`).

Rebuild after a change of the cohort or of a builder, from the project folder::

    .venv/bin/python -m tests.hospital.examples

`test_example_files.py` fails while the committed files differ from what this writes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from .conftest import COHORT, TABLES
from .test_redcap import build_export
from .test_sdtm import sdtm_from_cohort
from .test_validate_cli import HOSPITAL, hospital_export

EXAMPLES = Path(__file__).resolve().parent / "data" / "examples"


def cohort_frames() -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(COHORT / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


def write_examples(target: Path) -> list[Path]:
    """Write every example under `target`; the paths written."""
    frames = cohort_frames()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    redcap = target / "redcap-export.csv"
    with redcap.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(build_export(frames))
    written.append(redcap)
    (target / "sdtm").mkdir(exist_ok=True)
    for name, frame in sdtm_from_cohort(frames).items():
        path = target / "sdtm" / f"{name}.csv"
        path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
        written.append(path)
    (target / "hospital-export").mkdir(exist_ok=True)
    for name, frame in hospital_export(frames).items():
        path = target / "hospital-export" / f"{name}.csv"
        text = frame.to_csv(index=False, sep=";", lineterminator="\n")
        path.write_bytes(text.encode("cp1252" if name == "labs" else "utf-8"))
        written.append(path)
    declaration = target / "hospital-export.yaml"
    declaration.write_text(HOSPITAL, encoding="utf-8")
    written.append(declaration)
    return written


if __name__ == "__main__":
    for path in write_examples(EXAMPLES):
        print(path.relative_to(EXAMPLES.parents[2]))
