"""The HTML report: sections, self-containment, escaping, absent parts, entry point."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from rechallenge.errors import RechallengeError
from rechallenge.figures.render import render_all
from rechallenge.report.html import (
    SECTIONS,
    PdfBackendMissingError,
    render_report,
    write_report,
)
from rechallenge.report.outputs import write_outputs
from rechallenge.report.svg import check_svg, inline_svg
from rechallenge.report.text import methods_sentences, summary_points

SECTION_IDS = [sid for sid, _ in SECTIONS]
HAS_WEASYPRINT = importlib.util.find_spec("weasyprint") is not None


@pytest.fixture
def report_html(results: dict[str, Any]) -> str:
    return render_report(results)


def test_every_section_present_once(report_html: str) -> None:
    assert SECTION_IDS == [
        "summary",
        "attrition",
        "tables",
        "figures",
        "methods",
        "warnings",
        "manifest",
    ]
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


def test_svg_ids_are_unique_across_figures(report_html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', report_html)
    assert len(ids) == len(set(ids))


def test_script_injection_is_escaped(results: dict[str, Any]) -> None:
    evil = "<script>alert('x')</script>"
    results["cohort"]["patients"][13]["reason"] = evil
    results["warnings"].append({"code": "<b>X</b>", "message": evil})
    results["study"]["title"] = "<img src=x onerror=alert(1)>"
    results["resistance"]["criteria"][0]["wording"] = evil
    html = render_report(results)
    assert "<script" not in html
    assert "<img" not in html and "<b>X</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_summary_and_methods_read_results(results: dict[str, Any]) -> None:
    points = summary_points(results)
    assert points[0] == "24 patients screened, 13 included in the analysis."
    assert any("Median PFSR: 2.90 months (95% CI 1.90–11.00)" in p for p in points)
    assert any("log-rank p = 0.004" in p for p in points)
    assert any("Median OS: not reached" in p for p in points)
    text = " ".join(methods_sentences(results["methods"]))
    for needle in (
        "RECIST 1.1",
        "did not require",
        "NCI-CTCAE version 4.0",
        "(setting 'log')",
        "Efron",
        "30.4375",
        "date of last contact",
        "0.05",
        "numpy 1.26.4",
        "Schoenfeld",
    ):
        assert needle in text


def test_unknown_method_settings_are_still_stated(results: dict[str, Any]) -> None:
    results["methods"]["landmark_months"] = 6
    assert "landmark_months = 6" in " ".join(methods_sentences(results["methods"]))


def test_absent_parts_are_noted_not_fatal(results: dict[str, Any]) -> None:
    for key in ("waterfall", "swimmer", "adverse_events", "warnings", "manifest", "cox"):
        del results[key]
    html = render_report(results)
    assert "Figure 2. Best percentage change" in html
    assert "no usable &#39;waterfall&#39;" in html
    assert "No adverse events table" in html
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
    assert len(out["figures"]) == 24 and len(out["tables"]) == 24
    assert out["report"] == [tmp_path / "report.html"]
    assert all(p.exists() and p.parent.name == "figures" for p in out["figures"])
    assert all(p.exists() and p.parent.name == "tables" for p in out["tables"])


def test_write_outputs_refuses_unknown_schema(results: dict[str, Any], tmp_path: Path) -> None:
    results["schema_version"] = "2.0"
    with pytest.raises(RechallengeError, match=r"schema_version 2\.0 is not supported"):
        write_outputs(results, tmp_path)
