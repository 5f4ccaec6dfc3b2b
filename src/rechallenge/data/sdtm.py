"""CDISC SDTM: a folder of domain files (CSV or SAS transport .xpt) read into the data model.

Domains read (file ``<domain>.csv`` or ``<domain>.xpt``, names case-insensitive):

============  ==============================================================================
DM            patients: USUBJID, SEX (CT: M, F), BRTHDTC, DTHDTC; last contact RFPENDTC,
              else the latest DS.DSSTDTC
SUPPDM        patients, by QNAM: HISTOL, SMOKSTAT, STAGE, PDL1TPS, DRIVER, RECUR, DIAGDTC,
              METS (``;``-list); values as the data model writes them, or declared maps
EX (or EC)    treatments: one line per USUBJID and EXGRPID (its digits are the line number);
              EXTRT of the line's records joined by ``;`` as agents, EXCAT the regimen,
              first EXSTDTC the start, last EXENDTC the last dose (none: ongoing)
SUPPEX        treatments, by QNAM on any record of the line (IDVAR EXSEQ): ENDRSN, ECOG
RS            investigator responses: RSTESTCD BESTRESP within a line's window (its start to
              the next line's start) is the line's best response; the first OVRLRESP ``PD``
              in the window its progression date
TU + TR       lesions: TU gives each TULNKID's role (TUSTRESC TARGET, NON-TARGET, NEW; TR's
              TRGRPID, when it names one, for that assessment) and
              TULOC (organ; LYMPH NODE sets lymph_node); TR per TRLNKID and TRDTC gives
              size_mm (TRTESTCD LDIAM or LPERP, TRSTRESN in mm) and status (TUMSTATE:
              PRESENT, ABSENT, UNEQUIVOCAL PROGRESSION, EQUIVOCAL)
AE + SUPPAE   adverse events: AEDECOD (else AETERM), AETOXGR, AESTDTC; SUPPAE QNAM AEIRAE
LB            labs: LBTESTCD by CT (HGB, NEUT, WBC, LYM, PLAT, ALT, AST, BILI, CREAT),
              LBORRES/LBORRESU, LBORNRLO/LBORNRHI, LBDTC
DS            last contact (latest DSSTDTC) when DM has no RFPENDTC
============  ==============================================================================

XPT files are parsed by pyreadstat (the optional ``sdtm`` extra) in a child process with a
memory cap (`XPT_MEMORY_BYTES`) and a time limit (`XPT_SECONDS`), after a size check
(`MAX_XPT_BYTES`): ReadStat has had memory-safety bugs, and a crafted file must end in a
located problem (SDTM-002), never in a crash of this process.

What SDTM does not carry here: the order in which list items (metastases) were written.
Anything no rule covers keeps its problem in validation (as every other source).
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from rechallenge.data.io import RawStudy, RawTable, sha256_of
from rechallenge.errors import DataValidationError, Problem

__all__ = [
    "DOMAINS",
    "LAB_TESTS",
    "MAX_XPT_BYTES",
    "XPT_MEMORY_BYTES",
    "XPT_SECONDS",
    "is_sdtm_folder",
    "read_sdtm",
    "read_sdtm_study",
]

DOMAINS = ("dm", "suppdm", "ex", "ec", "suppex", "rs", "tu", "tr", "ae", "suppae", "lb", "ds")
MAX_XPT_BYTES = 500 * 1024 * 1024
XPT_MEMORY_BYTES = 2 * 1024**3
XPT_SECONDS = 120
SEX = {"M": "male", "F": "female"}
YN = {"Y": "yes", "N": "no"}
LAB_TESTS = {
    "HGB": "hemoglobin", "NEUT": "neutrophils", "WBC": "leukocytes", "LYM": "lymphocytes",
    "PLAT": "platelets", "ALT": "alt", "AST": "ast", "BILI": "bilirubin", "CREAT": "creatinine",
}  # fmt: skip
ROLES = {"TARGET": "target", "NON-TARGET": "non_target", "NEW": "new"}
STATES = {
    "PRESENT": "present",
    "ABSENT": "absent",
    "UNEQUIVOCAL PROGRESSION": "progression",
    "EQUIVOCAL": "equivocal",
}
SUPPDM = {
    "HISTOL": "histology", "SMOKSTAT": "smoking", "STAGE": "stage", "PDL1TPS": "pdl1_tps",
    "DRIVER": "driver", "RECUR": "recurrent", "DIAGDTC": "diagnosis_date", "METS": "metastases",
}  # fmt: skip
PATIENT_COLUMNS = (
    "patient_id", "sex", "birth_date", "smoking", "histology", "stage", "recurrent",
    "diagnosis_date", "driver", "pdl1_tps", "metastases", "last_contact_date", "death_date",
)  # fmt: skip


def _domain_file(folder: Path, domain: str) -> Path | None:
    for path in sorted(folder.iterdir()):
        if (
            path.is_file()
            and path.stem.lower() == domain
            and path.suffix.lower()
            in {
                ".csv",
                ".xpt",
            }
        ):
            return path
    return None


def is_sdtm_folder(folder: Path) -> bool:
    """A folder with a DM domain file and no data-model patients file."""
    return _domain_file(folder, "dm") is not None and not any(
        p.stem.lower() == "patients" for p in folder.iterdir()
    )


def read_domain(path: Path) -> pd.DataFrame:
    """One domain as text cells, upper-case column names; XPT parsed in a child process."""
    if path.suffix.lower() == ".xpt":
        return _read_xpt(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = pd.Index([str(c).strip().upper() for c in frame.columns])
    return frame


def _read_xpt(path: Path) -> pd.DataFrame:
    """Parse an XPT file in a child process with memory and time caps (SDTM-002 otherwise)."""
    size = path.stat().st_size
    if size > MAX_XPT_BYTES:
        raise DataValidationError(
            [_xpt_problem(path, f"the file is {size / 2**20:.0f} MiB, over the limit")]
        )
    code = "from rechallenge.data.sdtm import xpt_worker; xpt_worker()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(path), str(XPT_MEMORY_BYTES)],
            capture_output=True,
            timeout=XPT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DataValidationError(
            [_xpt_problem(path, f"reading took longer than {XPT_SECONDS} s")]
        ) from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = why[-1][:200] if why else f"the reader stopped (exit status {done.returncode})"
        raise DataValidationError([_xpt_problem(path, reason)])
    frame = pd.read_csv(io.BytesIO(done.stdout), dtype=str, keep_default_na=False)
    frame.columns = pd.Index([str(c).strip().upper() for c in frame.columns])
    return frame


def _xpt_problem(path: Path, why: str) -> Problem:
    return Problem(
        "SDTM-002",
        path.name,
        f"the SAS transport file cannot be read safely: {why}",
        "export the domain again (SAS XPORT v5 or CSV); a file the reader cannot parse "
        "within its limits is refused rather than risked",
    )


def xpt_worker() -> None:  # pragma: no cover - runs in the child process
    """Child process: cap memory, parse the XPT file named in argv, write it as CSV."""
    import resource

    path, limit = sys.argv[1], int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        pyreadstat: Any = importlib.import_module("pyreadstat")  # the optional sdtm extra
    except ImportError:
        sys.exit("pyreadstat is not installed: pip install 'rechallenge[sdtm]'")
    frame, _ = pyreadstat.read_xport(path)
    for column in frame.columns:
        if frame[column].dtype.kind == "f":  # SAS numbers: whole ones without a '.0'
            frame[column] = frame[column].map(_sas_number)
    sys.stdout.write(frame.to_csv(index=False))


def _sas_number(value: float) -> str:
    if value != value:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def read_sdtm_study(folder: Path) -> RawStudy:
    """SDTM domains as a study of the data model's tables; raise with every error found."""
    frames, sources, problems = read_sdtm(folder)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataValidationError(errors)
    tables = {name: RawTable(name, sources[name], frame) for name, frame in frames.items()}
    checksums = {
        p.name: sha256_of(p)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in {".csv", ".xpt"}
    }
    warned = tuple(p for p in problems if p.severity != "error")
    return RawStudy(folder, tables, checksums, warned)


def read_sdtm(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, str], list[Problem]]:
    """The data model's tables as text cells, the file behind each, and problems found."""
    files = {d: p for d in DOMAINS if (p := _domain_file(folder, d)) is not None}
    domains = {d: read_domain(p) for d, p in files.items()}
    if "ex" not in domains and "ec" in domains:
        domains["ex"] = domains["ec"].rename(columns=lambda c: "EX" + c[2:] if c[:2] == "EC" else c)
        files["ex"] = files["ec"]
    problems = _missing(domains, files, folder)
    if problems:
        raise DataValidationError(problems)
    tables = {"patients": _patients(domains), "treatments": _treatments(domains)}
    sources = {"patients": files["dm"].name, "treatments": files["ex"].name}
    if "tu" in domains and "tr" in domains:
        tables["lesions"], sources["lesions"] = _lesions(domains), files["tr"].name
    if "ae" in domains:
        tables["adverse_events"], sources["adverse_events"] = _adverse(domains), files["ae"].name
    if "lb" in domains:
        tables["labs"], sources["labs"] = (
            _labs(domains, files["lb"].name, problems),
            files["lb"].name,
        )
    return tables, sources, problems


def _missing(
    domains: dict[str, pd.DataFrame], files: dict[str, Path], folder: Path
) -> list[Problem]:
    """SDTM-001: DM and EX (or EC) are needed; each domain needs its key variables."""
    needed = {
        "dm": ("USUBJID", "SEX"), "ex": ("USUBJID", "EXTRT", "EXSTDTC"),
        "tu": ("USUBJID", "TULNKID", "TUSTRESC"), "tr": ("USUBJID", "TRLNKID", "TRTESTCD"),
        "ae": ("USUBJID", "AESTDTC"), "lb": ("USUBJID", "LBTESTCD", "LBORRES"),
        "rs": ("USUBJID", "RSTESTCD", "RSSTRESC", "RSDTC"),
    }  # fmt: skip
    problems = []
    for domain in ("dm", "ex"):
        if domain not in domains:
            problems.append(
                Problem(
                    "SDTM-001",
                    folder.name,
                    f"the {domain.upper()} domain is missing"
                    + (" (EX or EC)" if domain == "ex" else ""),
                    f"add {domain}.xpt or {domain}.csv to the folder",
                )
            )
    for domain, variables in needed.items():
        if domain not in domains:
            continue
        absent = [v for v in variables if v not in domains[domain].columns]
        problems += [
            Problem(
                "SDTM-001",
                files[domain].name,
                f"the variable {v} is missing from {domain.upper()}",
                "export the domain with its SDTM variables",
                column=v,
            )
            for v in absent
        ]
    return problems


def _get(frame: pd.DataFrame, column: str) -> pd.Series:
    return (
        frame[column]
        if column in frame.columns
        else pd.Series([""] * len(frame), index=frame.index)
    )


def _date(values: pd.Series) -> pd.Series:
    """ISO 8601 --DTC values as dates: the date part of a datetime (time dropped)."""
    return values.str.split("T").str[0]


def _supp(domains: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    supp = domains.get(name)
    if supp is None or supp.empty:
        return pd.DataFrame(columns=["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"])
    return supp


def _patients(domains: dict[str, pd.DataFrame]) -> pd.DataFrame:
    dm = domains["dm"]
    out = pd.DataFrame({"patient_id": dm["USUBJID"]})
    out["sex"] = dm["SEX"].map(lambda v: SEX.get(v.strip().upper(), v))
    out["birth_date"] = _date(_get(dm, "BRTHDTC"))
    out["death_date"] = _date(_get(dm, "DTHDTC"))
    last = _date(_get(dm, "RFPENDTC"))
    if "ds" in domains and "DSSTDTC" in domains["ds"].columns:
        ds = domains["ds"]
        latest = _date(ds["DSSTDTC"]).groupby(ds["USUBJID"]).max()
        last = last.where(last != "", dm["USUBJID"].map(latest).fillna(""))
    out["last_contact_date"] = last
    supp = _supp(domains, "suppdm")
    for qnam, column in SUPPDM.items():
        values = supp[supp["QNAM"].str.upper() == qnam].drop_duplicates("USUBJID")
        mapped = dm["USUBJID"].map(values.set_index("USUBJID")["QVAL"]).fillna("")
        out[column] = mapped.map(lambda v: YN.get(v, v)) if column == "recurrent" else mapped
    return out[list(PATIENT_COLUMNS)]


def _line_number(group: str) -> str:
    digits = re.findall(r"\d+", group)
    return digits[-1] if digits else group


def _treatments(domains: dict[str, pd.DataFrame]) -> pd.DataFrame:
    ex = domains["ex"].copy()
    ex["line"] = _get(ex, "EXGRPID").map(_line_number)
    ex["start"] = _date(ex["EXSTDTC"])
    ex["end"] = _date(_get(ex, "EXENDTC"))  # blank: ongoing
    supp = _supp(domains, "suppex")
    extras = {
        (row.USUBJID, str(row.IDVARVAL), str(row.QNAM).upper()): row.QVAL
        for row in supp.itertuples()
    }
    rows = []
    for (pid, line), group in ex.groupby(["USUBJID", "line"], sort=False):
        seqs = [str(s) for s in _get(group, "EXSEQ")]
        found = {q: _first_supp(extras, pid, seqs, q) for q in ("ENDRSN", "ECOG")}
        agents = list(dict.fromkeys(t.strip().lower() for t in group["EXTRT"]))
        rows.append(
            {
                "patient_id": pid,
                "line": line,
                "regimen": next((c for c in _get(group, "EXCAT") if c), ""),
                "agents": ";".join(agents),
                "start_date": group["start"].min(),
                "last_dose_date": max((e for e in group["end"] if e), default=""),
                "end_reason": found["ENDRSN"],
                "ecog": found["ECOG"],
            }
        )
    frame = pd.DataFrame(rows, dtype=object)
    return _with_responses(frame, domains.get("rs"))


def _first_supp(extras: dict[tuple[str, str, str], str], pid: str, seqs: list[str], q: str) -> str:
    """The first SUPPEX value of QNAM `q` on any of the line's EX records."""
    return next((extras[(pid, s, q)] for s in seqs if (pid, s, q) in extras), "")


ORDER = {"CR": 0, "PR": 1, "SD": 2, "PD": 3, "NE": 4}


def _with_responses(lines: pd.DataFrame, rs: pd.DataFrame | None) -> pd.DataFrame:
    """Best response and progression date per line from RS, within each line's window."""
    lines["best_response"] = ""
    lines["progression_date"] = ""
    if rs is None or lines.empty:
        return lines
    rs = rs.assign(day=_date(rs["RSDTC"]), code=rs["RSTESTCD"].str.upper())
    if "RSACPTFL" in rs.columns and (rs["RSACPTFL"] == "Y").any():
        rs = rs[(rs["RSACPTFL"] == "Y") | (rs["RSACPTFL"] == "")]  # the accepted read
    for pid, group in lines.groupby("patient_id", sort=False):
        starts = sorted(group["start_date"])
        mine = rs[rs["USUBJID"] == pid]
        for index, row in group.iterrows():
            later = [s for s in starts if s > row["start_date"]]
            window = (mine["day"] >= row["start_date"]) & (
                (mine["day"] < later[0]) if later else True
            )
            inside = mine[window]
            best = inside[inside["code"] == "BESTRESP"]["RSSTRESC"]
            if best.empty:
                overall = inside[inside["code"] == "OVRLRESP"]["RSSTRESC"]
                best = overall[overall.isin(ORDER)].sort_values(key=lambda s: s.map(ORDER))
            lines.at[index, "best_response"] = best.iloc[0] if not best.empty else ""
            pd_days = inside[(inside["code"] == "OVRLRESP") & (inside["RSSTRESC"] == "PD")]["day"]
            lines.at[index, "progression_date"] = pd_days.min() if not pd_days.empty else ""
    return lines


def _lesions(domains: dict[str, pd.DataFrame]) -> pd.DataFrame:
    tu, tr = domains["tu"], domains["tr"]
    if "TUACPTFL" in tu.columns and (tu["TUACPTFL"] == "Y").any():
        tu = tu[tu["TUACPTFL"] == "Y"]
    if "TRACPTFL" in tr.columns and (tr["TRACPTFL"] == "Y").any():
        tr = tr[tr["TRACPTFL"] == "Y"]
    tu = tu.drop_duplicates(["USUBJID", "TULNKID"]).set_index(["USUBJID", "TULNKID"])
    tr = tr[tr["TRLNKID"] != ""].assign(day=_date(_get(tr, "TRDTC")))
    rows = []
    for (pid, link, day), group in tr.groupby(["USUBJID", "TRLNKID", "day"], sort=False):
        found = tu.loc[(pid, link)] if (pid, link) in tu.index else None
        role = ROLES.get(str(found["TUSTRESC"]).upper(), "") if found is not None else ""
        grouped = [ROLES[g.upper()] for g in _get(group, "TRGRPID") if g.upper() in ROLES]
        role = grouped[0] if grouped else role  # TR's own group: a role may change over time
        location = str(found.get("TULOC", "")) if found is not None else ""
        size = group[group["TRTESTCD"].isin(["LDIAM", "LPERP", "DIAMETER"])]["TRSTRESC"]
        state = group[group["TRTESTCD"] == "TUMSTATE"]["TRSTRESC"]
        rows.append(
            {
                "patient_id": pid,
                "assessment_date": day,
                "lesion_id": link,
                "role": role,
                "organ": location.lower().replace(" ", "_"),
                "lymph_node": "yes" if location.upper() == "LYMPH NODE" else "no",
                "size_mm": size.iloc[0] if not size.empty else "",
                "status": STATES.get(state.iloc[0].upper(), state.iloc[0])
                if not state.empty
                else "",
            }
        )
    return pd.DataFrame(rows, dtype=object)


def _adverse(domains: dict[str, pd.DataFrame]) -> pd.DataFrame:
    ae = domains["ae"]
    term = _get(ae, "AEDECOD").where(_get(ae, "AEDECOD") != "", _get(ae, "AETERM"))
    supp = _supp(domains, "suppae")
    irae = supp[supp["QNAM"].str.upper() == "AEIRAE"]
    keyed = {(r.USUBJID, str(r.IDVARVAL)): YN.get(r.QVAL, r.QVAL) for r in irae.itertuples()}
    return pd.DataFrame(
        {
            "patient_id": ae["USUBJID"],
            "term": term,
            "grade": _get(ae, "AETOXGR"),
            "onset_date": _date(ae["AESTDTC"]),
            "immune_related": [
                keyed.get((p, str(s)), "")
                for p, s in zip(ae["USUBJID"], _get(ae, "AESEQ"), strict=True)
            ],
        },
        dtype=object,
    )


def _labs(domains: dict[str, pd.DataFrame], file: str, problems: list[Problem]) -> pd.DataFrame:
    lb = domains["lb"]
    codes = lb["LBTESTCD"].str.upper()
    unknown = sorted(set(codes) - set(LAB_TESTS))
    if unknown:
        problems.append(
            Problem(
                "SDTM-003",
                file,
                f"{int((~codes.isin(LAB_TESTS)).sum())} LB record(s) of tests the analysis does "
                f"not use are left out: {', '.join(unknown[:10])}",
                "nothing to fix; the tests used are " + ", ".join(LAB_TESTS),
                severity="warning",
            )
        )
    lb = lb[codes.isin(LAB_TESTS)]
    return pd.DataFrame(
        {
            "patient_id": lb["USUBJID"],
            "date": _date(_get(lb, "LBDTC")),
            "test": lb["LBTESTCD"].str.upper().map(LAB_TESTS),
            "value": lb["LBORRES"],
            "unit": _get(lb, "LBORRESU"),
            "lln": _get(lb, "LBORNRLO"),
            "uln": _get(lb, "LBORNRHI"),
        },
        dtype=object,
    ).reset_index(drop=True)
