"""The HTML report: sections, self-containment, escaping, absent parts, entry point."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from rechallenge.errors import RechallengeError
from rechallenge.figures.render import render_all
from rechallenge.labels import labels_from_results
from rechallenge.report.html import (
    SECTIONS,
    PdfBackendMissingError,
    render_report,
    write_report,
)
from rechallenge.report.outputs import write_outputs
from rechallenge.report.svg import check_svg, inline_svg
from rechallenge.report.text import methods_text, results_sections

SECTION_IDS = [sid for sid, _ in SECTIONS]
HAS_WEASYPRINT = importlib.util.find_spec("weasyprint") is not None


@pytest.fixture
def report_html(results: dict[str, Any]) -> str:
    return render_report(results)


def test_every_section_present_once(report_html: str) -> None:
    assert SECTION_IDS == ["summary", "results", "methods", "references", "appendix"]
    for sid in SECTION_IDS:
        assert report_html.count(f'<section id="{sid}">') == 1


def test_no_external_resources(report_html: str) -> None:
    assert "http://" not in report_html and "https://" not in report_html
    assert not re.search(r"<(script|link|iframe)\b", report_html)
    assert not re.search(r'src="(?!data:)', report_html)


def test_all_tables_and_figures_inlined(report_html: str) -> None:
    for tid in (
        "table1_resistance",
        "table2_efficacy",
        "table3_baseline",
        "table4_adverse_events",
        "table_cox_pfsr",
        "table_attrition",
    ):
        assert f'id="{tid}"' in report_html
    assert report_html.count("<svg") == 8
    assert report_html.count("<figcaption>") == 8
    numbers = re.findall(r"<figcaption><b>Figure (\d+)\.</b>", report_html)
    assert numbers == [str(i) for i in range(1, 9)]
    tables = re.findall(r"<caption>Table (A?\d+)\.", report_html)
    assert tables == ["1", "2", "3", "4", "5", "6", "A1", "A2", "A3"]
    for tid in ("table5_survival", "table_completeness", "table_warnings"):
        assert f'id="{tid}"' in report_html


def test_svg_ids_are_unique_across_figures(report_html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', report_html)
    assert len(ids) == len(set(ids))


def test_script_injection_is_escaped(results: dict[str, Any]) -> None:
    evil = "<script>alert('x')</script>"
    results["cohort"]["patients"][13]["reason"] = evil
    results["cohort"]["patients"][13]["included"] = False
    results["cohort"]["patients"][13]["criterion"] = None
    results["warnings"].append({"code": "<b>X</b>", "message": evil})
    results["study"]["title"] = "<img src=x onerror=alert(1)>"
    results["resistance"]["criteria"][0]["wording"] = evil
    html = render_report(results)
    assert "<script" not in html
    assert "<img" not in html and "<b>X</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_results_and_methods_read_results(results: dict[str, Any]) -> None:
    labels = labels_from_results(results)
    body = " ".join(p for sec in results_sections(results, labels, (), ()) for p in sec.paragraphs)
    assert "Of 24 patients screened, 13 met all selection criteria" in body
    assert "Median PFSR was 2.9 months (95% CI 1.9–11.0; Kaplan–Meier)" in body
    assert "p = 0.004, log-rank test" in body
    assert "Median OS was not reached" in body
    assert "30.4375" not in body
    text = methods_text(results, labels)
    for needle in (
        "RECIST version 1.1 (Eisenhauer et al., 2009)",
        "without confirmation",
        "NCI CTCAE version 4.0",
        "log-transformed Greenwood intervals",
        "Efron's method for tied event times",
        "Firth's penalised likelihood",
        "30.4375",
        "censored at the last date known alive",
        "0.05",
        "numpy 1.26.4",
        "Schoenfeld et al. (2021)",
        "exact Clopper–Pearson intervals",
        "log-rank test",
    ):
        assert needle in text, needle
    assert "setting '" not in text and "_" not in text.replace("rechallenge 0.1.0", "")


def test_absent_parts_are_noted_not_fatal(results: dict[str, Any]) -> None:
    dq_counts = copy.deepcopy(results)
    del dq_counts["warnings"]  # the counts by kind in data_quality are enough for the table
    assert 'id="table_warnings"' in render_report(dq_counts)
    keys = ("waterfall", "swimmer", "adverse_events", "warnings", "data_quality", "manifest", "cox")
    for key in keys:
        del results[key]
    html = render_report(results)
    assert "Best percentage change from baseline" in html
    assert "not produced: the results hold no data for it" in html
    assert "Adverse events are listed in" not in html
    assert "No data-quality warnings were raised." in html
    assert "The results carry no run manifest." in html
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html


def test_minimal_results_render(tmp_path: Path) -> None:
    path = write_report({"schema_version": "1.0"}, tmp_path)
    html = path.read_text(encoding="utf-8")
    assert all(f'<section id="{sid}">' in html for sid in SECTION_IDS)


def test_report_from_saved_figures(results: dict[str, Any], tmp_path: Path) -> None:
    paths = render_all(results, tmp_path / "figs", formats=("svg", "png"), dpi=30)
    svgs = {p.stem: p for p in paths if p.suffix == ".svg"}
    pngs = {p.stem: p for p in paths if p.suffix == ".png"}
    html = write_report(results, tmp_path, figures=svgs).read_text(encoding="utf-8")
    assert html.count("<svg") == 8
    (tmp_path / "figs" / "flow.svg").unlink()
    html = render_report(results, figures={"flow": pngs["flow"]})
    assert 'src="data:image/png;base64,' in html
    assert "not provided" in html  # the other figures were not given


def test_svg_check_refuses_active_content() -> None:
    ok = '<svg xmlns="http://www.w3.org/2000/svg"><path id="a" d="M0 0"/></svg>'
    check_svg(ok)
    out = str(inline_svg(ok, "fig"))
    assert 'id="fig-a"' in out and "xmlns" not in out
    for bad in (
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<use xlink:href="http://evil/x.svg#a"/></svg>',
    ):
        with pytest.raises(ValueError):
            check_svg(bad)


def test_svg_check_refuses_entity_expansion() -> None:
    bomb = '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>'
    with pytest.raises(Exception, match=r"(?i)entit"):
        check_svg(bomb)


@pytest.mark.skipif(HAS_WEASYPRINT, reason="WeasyPrint is installed here")
def test_pdf_without_weasyprint_names_the_extra(results: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(PdfBackendMissingError, match=re.escape("rechallenge[pdf]")):
        write_report(results, tmp_path, pdf=True)
    assert not (tmp_path / "report.html").exists()
    with pytest.raises(RechallengeError):
        write_outputs(results, tmp_path / "o", pdf=True)
    assert not (tmp_path / "o").exists()


def test_write_outputs(results: dict[str, Any], tmp_path: Path) -> None:
    out = write_outputs(results, tmp_path)
    assert set(out) == {"figures", "tables", "report"}
    assert len(out["figures"]) == 24 and len(out["tables"]) == 28  # 7 tables x 4 formats
    assert out["report"] == [tmp_path / "report.html", tmp_path / "manuscript.docx"]
    assert all(p.exists() and p.parent.name == "figures" for p in out["figures"])
    assert all(p.exists() and p.parent.name == "tables" for p in out["tables"])


def test_write_outputs_refuses_unknown_schema(results: dict[str, Any], tmp_path: Path) -> None:
    results["schema_version"] = "2.0"
    with pytest.raises(RechallengeError, match=r"schema_version 2\.0 is not supported"):
        write_outputs(results, tmp_path)
