"""The report and its text read the schema 1.1 results keys (follow-up, landmarks, Cox rows,
data quality) and show no configuration code; IDs only with --show-ids; page size."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from tests.outputs.test_report_visible import codes_in, visible_text

from rechallenge.labels import labels_from_results
from rechallenge.report.document import Paragraph, TableBlock, build_document
from rechallenge.report.html import render_report
from rechallenge.report.text import (
    cited_references,
    follow_up_sentence,
    methods_text,
    survival_sentence,
)

FOLLOW_UP = {
    "endpoint": "OS",
    "method": "reverse_km",
    "n": 13,
    "median_months": 10.31,
    "lower": 7.9,
    "upper": None,
    "median_days": 314,
}
DATA_QUALITY = {
    "imputations": [
        {"table": "treatments", "column": "start_date", "rule": "mid_month", "count": 3}
    ],
    "completeness": [
        {
            "table": "patients",
            "variable": "pdl1_tps",
            "label": "PD-L1 TPS",
            "n": 13,
            "missing": 2,
            "imputed": 0,
            "derived": 0,
            "investigator": 0,
        },
        {
            "table": "lesions",
            "variable": "bor",
            "label": "Best overall response",
            "n": 13,
            "missing": 0,
            "imputed": 0,
            "derived": 11,
            "investigator": 2,
        },
    ],
    "warnings_by_code": {"RECIST-NO_FOLLOW_UP": 2, "RECIST-BL-002": 1},
}


def _reference(variable: str, level: str, label: str) -> dict[str, Any]:
    return {
        "term": f"{variable}={level}",
        "variable": variable,
        "level": level,
        "reference": level,
        "label": label,
        "model": "univariable",
        "is_reference": True,
        "hr": None,
        "lower": None,
        "upper": None,
        "p": None,
        "estimable": True,
    }


@pytest.fixture
def contract(results: dict[str, Any]) -> dict[str, Any]:
    """The example results with the schema 1.1 additions."""
    r = copy.deepcopy(results)
    r["schema_version"] = "1.1"
    r["follow_up"] = dict(FOLLOW_UP)
    r["data_quality"] = copy.deepcopy(DATA_QUALITY)
    pfsr = r["km"]["PFSR"]["all"]
    pfsr["rates"] = [
        {
            "time_months": 6,
            "surv": 0.3077,
            "lower": 0.13,
            "upper": 0.72,
            "n_risk": 4,
            "estimable": True,
        },
        {
            "time_months": 12,
            "surv": 0.0,
            "lower": None,
            "upper": None,
            "n_risk": 0,
            "estimable": True,
        },
    ]
    r["km"]["OS"]["all"]["rates"] = [
        {"time_months": 6, "surv": 0.8, "lower": 0.6, "upper": 1.0, "n_risk": 9, "estimable": True},
        {
            "time_months": 12,
            "surv": None,
            "lower": None,
            "upper": None,
            "n_risk": 0,
            "estimable": False,
        },
    ]
    r["cox"]["PFSR"] = [
        _reference("ecog_group", "0-1", "ECOG performance status: 0–1"),
        {
            "term": "ecog_group=2",
            "variable": "ecog_group",
            "level": "2",
            "reference": "0-1",
            "label": "ECOG performance status: 2",
            "variable_label": "ECOG performance status",
            "level_label": "2",
            "model": "univariable",
            "n": 13,
            "events": 12,
            "hr": 6.839,
            "lower": 1.557,
            "upper": 30.032,
            "p": 0.011,
            "ties": "efron",
            "firth": False,
            "monotone": False,
            "ci_method": "wald",
            "test": "Wald",
            "is_reference": False,
            "estimable": True,
            "global_p": None,
        },
        _reference("histology", "adenocarcinoma", "Histology: Adenocarcinoma"),
        {
            "term": "histology=squamous",
            "variable": "histology",
            "level": "squamous",
            "reference": "adenocarcinoma",
            "label": "Histology: Squamous cell carcinoma",
            "variable_label": "Histology",
            "level_label": "Squamous cell carcinoma",
            "model": "univariable",
            "n": 13,
            "events": 12,
            "hr": 3.303,
            "lower": 0.914,
            "upper": 14.104,
            "p": 0.068,
            "ties": "efron",
            "firth": True,
            "monotone": True,
            "ci_method": "profile",
            "test": "firth_lr",
            "is_reference": False,
            "estimable": True,
            "global_p": 0.12,
            "global_test": "LR",
        },
        {
            "term": "histology=large_cell",
            "variable": "histology",
            "level": "large_cell",
            "reference": "adenocarcinoma",
            "label": "Histology: Large cell carcinoma",
            "variable_label": "Histology",
            "level_label": "Large cell carcinoma",
            "model": "univariable",
            "n": 13,
            "events": 12,
            "hr": None,
            "lower": None,
            "upper": None,
            "p": None,
            "ties": "efron",
            "firth": False,
            "monotone": True,
            "is_reference": False,
            "estimable": False,
            "global_p": 0.12,
            "global_test": "LR",
        },
    ]
    r["cox_models"] = {
        "PFSR": [
            {
                "model": "univariable",
                "variables": ["histology"],
                "n": 13,
                "events": 12,
                "parameters": 2,
                "events_per_parameter": 6.0,
                "epv_low": True,
            }
        ]
    }
    r["manifest"]["config"]["output"] = {"page_size": "A4"}
    return r


def _paragraphs(results: dict[str, Any]) -> str:
    blocks = build_document(results, ())
    return " ".join(b.text for b in blocks if isinstance(b, Paragraph))


def test_follow_up_is_reported_with_its_method(contract: dict[str, Any]) -> None:
    labels = labels_from_results(contract)
    sentence = follow_up_sentence(contract, labels)
    assert sentence == (
        "Median follow-up from the start of rechallenge was 10.3 months (95% CI 7.9–not "
        "reached; reverse Kaplan–Meier method, 13 patients)."
    )
    assert sentence in _paragraphs(contract)
    assert "Schemper and Smith, 1996" in methods_text(contract, labels)
    assert any(ref.startswith("Schemper M, Smith TL.") for ref in cited_references(contract))


def test_landmark_rates_zero_and_not_estimable(contract: dict[str, Any]) -> None:
    labels = labels_from_results(contract)
    pfsr = survival_sentence("PFSR", contract["km"]["PFSR"]["all"], labels)
    assert "30.8% at 6 months (95% CI 13.0–72.0%) and 0% at 12 months" in pfsr
    os_ = survival_sentence("OS", contract["km"]["OS"]["all"], labels)
    assert "not estimable at 12 months" in os_


def test_cox_rows_of_the_contract(contract: dict[str, Any]) -> None:
    text = _paragraphs(contract)
    assert (
        "In univariable Cox regression for PFSR (Efron's method for tied event times), an "
        "association was found for ECOG performance status, 2 vs 0–1 with shorter PFSR "
        "(HR 6.84, 95% CI 1.56–30.03; p = 0.011, Wald test). No other variable was "
        "significantly associated with PFSR "
        "(all p ≥ 0.05). For histology the partial likelihood was monotone, and Firth's "
        "penalised-likelihood estimates"
    ) in text
    assert "0–1 vs" not in text  # the reference row is not a term
    assert "No hazard ratio could be estimated for histology, large cell carcinoma vs " in text
    assert "global likelihood-ratio test for Histology gave p = 0.120" in text
    assert "6.0 events per parameter (fewer than 10)" in text
    labels = labels_from_results(contract)
    assert "global likelihood-ratio test of the whole variable" in methods_text(contract, labels)


def test_data_quality_is_counted_in_methods(contract: dict[str, Any]) -> None:
    text = methods_text(contract, labels_from_results(contract))
    assert "Partial or missing dates were imputed for 3 values (mid month)" in text
    assert "raised 3 warnings of 2 kinds" in text


def test_completeness_and_warnings_in_the_appendix(contract: dict[str, Any]) -> None:
    blocks = build_document(contract, ())
    appendix = [b for b in blocks if isinstance(b, TableBlock) and b.appendix]
    assert [b.number for b in appendix] == ["A1", "A2", "A3"]
    assert appendix[2].table.rows[0].texts == ("RECIST: no follow up", "2")
    completeness = appendix[1].table
    assert completeness.columns[-3:] == ("Imputed", "Derived by rule", "From investigator")
    assert completeness.rows[1].texts == (
        "Best overall response",
        "Lesions",
        "13",
        "0",
        "0",
        "11",
        "2",
    )
    html = render_report(contract)
    appendix_html = html.split('<section id="appendix">')[1]
    assert "Completeness of the data, per variable" in appendix_html
    assert "RECIST: no follow up" in appendix_html
    assert "RECIST-NO_FOLLOW_UP" not in html


def test_no_configuration_code_in_visible_text(contract: dict[str, Any]) -> None:
    html = render_report(contract)
    own = visible_text(html, skip_tables=True)
    assert "Median PFSR was 2.9 months" in own and "Appendix" in own
    assert "Baseline characteristics of the patients" not in own  # tables were skipped
    assert codes_in(own) == []


def test_no_configuration_code_in_the_tables(contract: dict[str, Any]) -> None:
    assert codes_in(visible_text(render_report(contract))) == []


def test_patient_ids_only_with_show_ids(contract: dict[str, Any]) -> None:
    html = render_report(contract)
    listing = html.split('id="patient-list"')[1].split("</table>")[0]
    assert "P01" not in listing and "<td>1</td>" in listing
    contract["study"]["show_ids"] = True
    listing = render_report(contract).split('id="patient-list"')[1].split("</table>")[0]
    assert "P01" in listing


@pytest.mark.parametrize(
    ("given", "size"), [("A4", "A4"), ("Letter", "Letter"), ("letter", "Letter"), ("B5", "A4")]
)
def test_print_page_size_from_configuration(
    contract: dict[str, Any], given: str, size: str
) -> None:
    contract["manifest"]["config"]["output"]["page_size"] = given
    html = render_report(contract)
    assert f"@page {{ size: {size}; }}" in html
    assert re.search(r"@bottom-center \{ content: \"Page \" counter\(page\)", html)


def test_headings_and_short_tables_keep_together(contract: dict[str, Any]) -> None:
    html = render_report(contract)
    css = html.split("@media print", 1)[1]
    assert "h1, h2, h3, h4 { break-after: avoid" in css
    assert ".table-wrap.short { break-inside: avoid" in css
    assert "figure { break-inside: avoid" in css
    assert html.count('class="table-wrap short"') >= 5


def test_the_patient_listing_is_capped_and_numbered(results: dict[str, Any]) -> None:
    from rechallenge.report.html import MAX_LISTED_PATIENTS

    patient = results["cohort"]["patients"][0]
    many = MAX_LISTED_PATIENTS + 7
    results["cohort"]["patients"] = [patient | {"patient_id": f"Q{i}"} for i in range(many)]
    results["swimmer"] = []
    html = render_report(results)
    assert "7 more screened patients are listed in results.json" in html
    assert f"<td>{MAX_LISTED_PATIENTS}</td>" in html and "Q0<" not in html  # no IDs
    results["study"]["show_ids"] = True
    html = render_report(results)
    assert f"Q{MAX_LISTED_PATIENTS - 1}<" in html and f"Q{MAX_LISTED_PATIENTS}<" not in html


def test_firth_terms_counted_without_reference_rows_and_their_ties_named(
    results: dict[str, Any],
) -> None:
    text = methods_text(results, labels_from_results(results))
    firth = [r for r in results["cox"]["PFSR"] if r["firth"]]
    assert len(firth) == 5 and sum(not r["is_reference"] for r in firth) == 3
    assert "this applied to 3 terms." in text
    assert "penalised likelihood-ratio tests and Breslow's method for tied event times" in text
