"""Analysis datasets with CDISC ADaM variable names, so R or SAS users can continue from them.

ADSL (one row per screened patient), ADRS (best overall response per course and each
time-point response), ADTTE (PFS1, PFSR, OS; AVAL in days, AVALMO in months, CNSR 1 =
censored) and ADAE (worst grade per patient, term and phase). USUBJID is the pseudonym;
calendar dates (STARTDT, ADT, ...) are written only when identifiers were asked for
(`--show-ids`), otherwise day counts carry the timing.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from rechallenge.config import StudyConfig
from rechallenge.rules.cohort import Selection
from rechallenge.rules.response_common import CourseResponse

PARAMS = {
    "PFS1": "Progression-free survival on the first ICI course (days)",
    "PFSR": "Progression-free survival on ICI rechallenge (days)",
    "OS": "Overall survival from ICI rechallenge (days)",
}


def build_adam(
    facts: pd.DataFrame,
    selection: Selection,
    endpoints: pd.DataFrame,
    adverse: pd.DataFrame | None,
    pseudonyms: Mapping[str, str],
    config: StudyConfig,
    responses: Mapping[tuple[str, str], CourseResponse] | None = None,
) -> dict[str, pd.DataFrame]:
    """ADSL, ADRS, ADTTE and (when AE data exist) ADAE."""
    show_dates = config.output.show_ids or any(k == v for k, v in pseudonyms.items())
    datasets = {
        "ADSL": adsl(facts, selection, pseudonyms),
        "ADRS": adrs(facts, pseudonyms, responses or {}),
        "ADTTE": adtte(endpoints, pseudonyms, config.endpoints.days_per_month, show_dates),
    }
    if adverse is not None:
        datasets["ADAE"] = adae(adverse, pseudonyms)
    return datasets


def adsl(facts: pd.DataFrame, selection: Selection, pseudonyms: Mapping[str, str]) -> pd.DataFrame:
    """Subject level: demographics, disease, courses, resistance and analysis flags."""
    listing = selection.listing.set_index("patient_id")
    return pd.DataFrame(
        {
            "USUBJID": facts["patient_id"].map(pseudonyms),
            "AGE": facts["age_at_rechallenge"],
            "AGEU": "YEARS",
            "SEX": facts["sex"].str.upper().str[0],
            "SMOKSTAT": facts["smoking"],
            "HISTOL": facts["histology"],
            "STAGE": facts["stage"],
            "DRIVER": facts["driver"],
            "PDL1TPS": facts["pdl1_tps"],
            "ECOGRCH": facts["ecog_rechallenge"],
            "RESCLS": facts["resistance_class"],
            "ITTFL": facts["patient_id"].map(listing["included"]).map({True: "Y", False: "N"}),
            "EXCLCRIT": facts["patient_id"].map(listing["criterion"]).replace("", None),
            "EXCLRSN": facts["patient_id"].map(listing["reason"]),
            "TR01LINE": facts["initial_line"],
            "TR02LINE": facts["rechallenge_line"],
            "BORINIT": facts.get("initial_bor"),
            "BORRCH": facts.get("rechallenge_bor"),
            "DTHFL": facts["death_date"].notna().map({True: "Y", False: "N"}),
        }
    )


ADRS_COLUMNS = ["USUBJID", "APHASE", "SRCDOM", "PARAMCD", "PARAM", "AVALC", "ADY"]
BOR_PARAM = "Best overall response"
OVR_PARAM = "Overall time-point response"


def study_day(days_after_start: int) -> int:
    """CDISC study day from a day offset: the first dose is day 1 and there is no day 0."""
    return days_after_start + 1 if days_after_start >= 0 else days_after_start


def adrs(
    facts: pd.DataFrame,
    pseudonyms: Mapping[str, str],
    responses: Mapping[tuple[str, str], CourseResponse],
) -> pd.DataFrame:
    """Best overall response per course (PARAMCD BOR) and time-point responses (OVR).

    ADY is the CDISC study day of the assessment counted from the first dose of the course
    named by APHASE (day 1). Rows are built as tuples: a large cohort has millions.
    """
    rows: list[tuple[object, ...]] = []
    for pid in facts["patient_id"].tolist():
        subject = pseudonyms[pid]
        for phase in ("initial", "rechallenge"):
            response = responses.get((pid, phase))
            if response is None:
                continue
            source = response.source.upper()
            rows.append(
                (subject, phase, source, "BOR", BOR_PARAM, str(response.best_response), None)
            )
            rows.extend(
                (subject, phase, source, "OVR", OVR_PARAM, str(tp.overall), study_day(tp.day))
                for tp in response.timepoints
            )
    frame = pd.DataFrame.from_records(rows, columns=ADRS_COLUMNS)
    frame["ADY"] = frame["ADY"].astype("Int64")
    return frame


def adtte(
    endpoints: pd.DataFrame, pseudonyms: Mapping[str, str], days_per_month: float, show_dates: bool
) -> pd.DataFrame:
    """One row per patient and endpoint; CNSR 1 = censored (CDISC convention)."""
    frame = pd.DataFrame(
        {
            "USUBJID": endpoints["patient_id"].map(pseudonyms),
            "PARAMCD": endpoints["paramcd"],
            "PARAM": endpoints["paramcd"].map(PARAMS),
            "AVAL": endpoints["aval_days"],
            "AVALU": "DAYS",
            "AVALMO": endpoints["aval_days"] / days_per_month,
            "CNSR": endpoints["cnsr"],
            "EVNTDESC": endpoints["evntdesc"],
            "CNSDTDSC": endpoints["cnsdtdsc"],
        }
    )
    if show_dates:
        frame["STARTDT"] = endpoints["startdt"].dt.strftime("%Y-%m-%d")
        frame["ADT"] = endpoints["adt"].dt.strftime("%Y-%m-%d")
    return frame


def adae(adverse: pd.DataFrame, pseudonyms: Mapping[str, str]) -> pd.DataFrame:
    """Worst grade per patient, term and phase, with where it came from (reported or lab)."""
    return pd.DataFrame(
        {
            "USUBJID": adverse["patient_id"].map(pseudonyms),
            "APHASE": adverse["phase"],
            "AEDECOD": adverse["term"],
            "ATOXGR": adverse["grade"],
            "AESRC": adverse["source"],
        }
    )
