"""SDTM: the example cohort written as SDTM domains reads back as the cohort; public
pharmaverse RECIST domains map to lesions and investigator responses; XPT files are parsed
in a child process and hostile ones refused with a located problem."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rechallenge.api import run_study
from rechallenge.data.io import read_study_files
from rechallenge.data.sdtm import LAB_TESTS, read_domain, read_sdtm
from rechallenge.data.validate import load_study
from rechallenge.errors import DataValidationError

from .conftest import COHORT, assert_same_study

PHARMAVERSE = Path(__file__).parent / "data" / "sdtm"
ROLE = {"target": "TARGET", "non_target": "NON-TARGET", "new": "NEW"}
STATE = {"present": "PRESENT", "absent": "ABSENT", "progression": "UNEQUIVOCAL PROGRESSION"}
STATE |= {"equivocal": "EQUIVOCAL"}
QNAMS = {
    "histology": "HISTOL", "smoking": "SMOKSTAT", "stage": "STAGE", "pdl1_tps": "PDL1TPS",
    "driver": "DRIVER", "recurrent": "RECUR", "diagnosis_date": "DIAGDTC", "metastases": "METS",
}  # fmt: skip
needs_pyreadstat = pytest.mark.skipif(
    importlib.util.find_spec("pyreadstat") is None, reason="the sdtm extra is not installed"
)


def sdtm_from_cohort(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The cohort as SDTM domains, by the conventions `rechallenge.data.sdtm` documents."""
    p, t = frames["patients"], frames["treatments"]
    dm = pd.DataFrame(
        {
            "STUDYID": "SEED", "DOMAIN": "DM", "USUBJID": p["patient_id"],
            "SEX": p["sex"].map({"male": "M", "female": "F"}), "BRTHDTC": p["birth_date"],
            "DTHDTC": p["death_date"], "RFPENDTC": p["last_contact_date"],
        }
    )  # fmt: skip
    suppdm = [
        {"USUBJID": r["patient_id"], "QNAM": q, "QVAL": {"yes": "Y", "no": "N"}.get(r[c], r[c])}
        for r in p.to_dict("records")
        for c, q in QNAMS.items()
        if r[c]
    ]
    ex, suppex, rs = [], [], []
    for r in t.to_dict("records"):
        for agent in r["agents"].split(";"):
            seq = len(ex) + 1
            ex.append(
                {
                    "USUBJID": r["patient_id"], "EXSEQ": seq, "EXGRPID": f"LINE {r['line']}",
                    "EXTRT": agent.upper(), "EXCAT": r["regimen"], "EXSTDTC": r["start_date"],
                    "EXENDTC": r["last_dose_date"],
                }
            )  # fmt: skip
            if agent == r["agents"].split(";")[0]:
                for q, c in (("ENDRSN", "end_reason"), ("ECOG", "ecog")):
                    if r[c]:
                        suppex.append(
                            {"USUBJID": r["patient_id"], "IDVAR": "EXSEQ", "IDVARVAL": seq,
                             "QNAM": q, "QVAL": r[c]}
                        )  # fmt: skip
        if r["best_response"]:
            rs.append({"USUBJID": r["patient_id"], "RSTESTCD": "BESTRESP",
                       "RSSTRESC": r["best_response"], "RSDTC": r["start_date"]})  # fmt: skip
        if r["progression_date"]:
            rs.append({"USUBJID": r["patient_id"], "RSTESTCD": "OVRLRESP",
                       "RSSTRESC": "PD", "RSDTC": r["progression_date"]})  # fmt: skip
    les = frames["lesions"]
    tu = les.drop_duplicates(["patient_id", "lesion_id"])
    tu = pd.DataFrame(
        {
            "USUBJID": tu["patient_id"], "TULNKID": tu["lesion_id"],
            "TUSTRESC": tu["role"].map(ROLE),
            "TULOC": tu["organ"].str.upper().str.replace("_", " "),
        }
    )  # fmt: skip
    tr = []
    for r in les.to_dict("records"):
        base = {"USUBJID": r["patient_id"], "TRLNKID": r["lesion_id"],
                "TRGRPID": ROLE[r["role"]], "TRDTC": r["assessment_date"]}  # fmt: skip
        if r["size_mm"]:
            tr.append(base | {"TRTESTCD": "LDIAM", "TRSTRESC": r["size_mm"]})
        if r["status"]:
            tr.append(base | {"TRTESTCD": "TUMSTATE", "TRSTRESC": STATE[r["status"]]})
    a = frames["adverse_events"]
    ae = pd.DataFrame(
        {"USUBJID": a["patient_id"], "AESEQ": range(1, len(a) + 1), "AEDECOD": a["term"],
         "AETOXGR": a["grade"], "AESTDTC": a["onset_date"]}
    )  # fmt: skip
    suppae = pd.DataFrame(
        {"USUBJID": a["patient_id"], "IDVAR": "AESEQ", "IDVARVAL": range(1, len(a) + 1),
         "QNAM": "AEIRAE", "QVAL": a["immune_related"].map({"yes": "Y", "no": "N", "": ""})}
    )  # fmt: skip
    lab = frames["labs"]
    codes = {v: k for k, v in LAB_TESTS.items()}
    lb = pd.DataFrame(
        {"USUBJID": lab["patient_id"], "LBTESTCD": lab["test"].map(codes), "LBORRES": lab["value"],
         "LBORRESU": lab["unit"], "LBORNRLO": lab["lln"], "LBORNRHI": lab["uln"],
         "LBDTC": lab["date"]}
    )  # fmt: skip
    return {
        "dm": dm, "suppdm": pd.DataFrame(suppdm), "ex": pd.DataFrame(ex),
        "suppex": pd.DataFrame(suppex), "rs": pd.DataFrame(rs), "tu": tu, "tr": pd.DataFrame(tr),
        "ae": ae, "suppae": suppae, "lb": lb,
    }  # fmt: skip


def write_domains(folder: Path, domains: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, frame in domains.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_cohort_as_sdtm_csv_reads_as_the_cohort(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame], reference_study: Any
) -> None:
    folder = write_domains(tmp_path / "sdtm", sdtm_from_cohort(cohort_frames))
    assert_same_study(load_study(folder), reference_study)
    raw = read_study_files(folder)
    assert raw.tables["lesions"].source == "tr.csv" and "dm.csv" in raw.checksums


def test_cohort_as_sdtm_gives_the_same_results(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]
) -> None:
    folder = write_domains(tmp_path / "sdtm", sdtm_from_cohort(cohort_frames))

    def numbers(results: Any) -> str:
        return json.dumps({k: v for k, v in results.items() if k != "manifest"}, default=str)

    assert numbers(run_study(folder).results) == numbers(run_study(COHORT).results)


def test_pharmaverse_recist_domains_map_to_lesions_and_responses() -> None:
    """pharmaversesdtm tu/tr/rs_onco_recist (Apache-2.0; tests/hospital/data/sdtm/README.md)."""
    domains = {d: read_domain(PHARMAVERSE / f"{d}_onco_recist.csv") for d in ("tu", "tr", "rs")}
    tu, tr = domains["tu"], domains["tr"]
    from rechallenge.data import sdtm

    lesions = sdtm._lesions({"tu": tu, "tr": tr})
    accepted = tr[(tr["TRACPTFL"] == "Y") & (tr["TRLNKID"] != "")]
    keys = accepted[["USUBJID", "TRLNKID", "TRDTC"]].drop_duplicates()
    assert len(lesions) == len(keys)  # one row per lesion per assessment, no record lost
    assert set(lesions["role"]) <= {"target", "non_target", "new"}
    first = lesions[(lesions["patient_id"] == "01-701-1015") & (lesions["lesion_id"] == "T01")]
    assert first.iloc[0]["size_mm"] == "21"  # TR: LDIAM 21 mm at screening
    assert (lesions[lesions["organ"] == "lymph_node"]["lymph_node"] == "yes").all()
    lines = pd.DataFrame(
        {"patient_id": ["01-701-1015"], "start_date": ["2014-01-02"], "line": ["1"]}
    )
    responded = sdtm._with_responses(lines, domains["rs"])
    rs = domains["rs"]
    mine = rs[(rs["USUBJID"] == "01-701-1015") & (rs["RSTESTCD"] == "OVRLRESP")]
    mine = mine[mine["RSACPTFL"] == "Y"]
    expected = min(mine["RSSTRESC"], key=lambda v: sdtm.ORDER.get(v, 9))
    assert responded.iloc[0]["best_response"] == expected
    pd_days = sorted(mine[mine["RSSTRESC"] == "PD"]["RSDTC"])
    assert responded.iloc[0]["progression_date"] == (pd_days[0] if pd_days else "")


def test_missing_domains_are_named(tmp_path: Path, cohort_frames: dict[str, pd.DataFrame]) -> None:
    domains = sdtm_from_cohort(cohort_frames)
    del domains["ex"]
    domains["dm"] = domains["dm"].drop(columns="SEX")
    folder = write_domains(tmp_path / "sdtm", domains)
    with pytest.raises(DataValidationError) as exc:
        read_sdtm(folder)
    found = {(p.code, p.table, p.column) for p in exc.value.problems}
    assert found == {("SDTM-001", "sdtm", None), ("SDTM-001", "dm.csv", "SEX")}


@needs_pyreadstat
def test_xpt_domains_read_in_a_child_process(
    tmp_path: Path, cohort_frames: dict[str, pd.DataFrame], reference_study: Any
) -> None:
    import pyreadstat

    folder = write_domains(tmp_path / "sdtm", sdtm_from_cohort(cohort_frames))
    dm = pd.read_csv(folder / "dm.csv", dtype=str, keep_default_na=False)
    (folder / "dm.csv").unlink()
    pyreadstat.write_xport(dm, str(folder / "dm.xpt"), table_name="DM", file_format_version=5)
    assert_same_study(load_study(folder), reference_study)


@needs_pyreadstat
def test_a_crafted_xpt_is_refused_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    path.write_bytes(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"\xff" * 4000)
    with pytest.raises(DataValidationError) as exc:
        read_domain(path)
    problem = exc.value.problems[0]
    assert problem.code == "SDTM-002" and problem.table == "dm.xpt"


def test_an_oversized_xpt_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rechallenge.data import sdtm

    path = tmp_path / "lb.xpt"
    path.write_bytes(b"\0" * 2048)
    monkeypatch.setattr(sdtm, "MAX_XPT_BYTES", 1024)
    with pytest.raises(DataValidationError) as exc:
        read_domain(path)
    assert "over the limit" in exc.value.problems[0].message
