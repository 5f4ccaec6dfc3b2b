"""Forest plot (Figure 6): the same rows as the Cox table, term by term, in both formats."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from matplotlib.figure import Figure

from rechallenge.figures.forest import (
    FIRTH_MARK,
    NOT_ESTIMABLE_TEXT,
    REFERENCE_TEXT,
    figure_forest,
    forest_rows,
    hr_words,
)
from rechallenge.figures.style import gid
from rechallenge.labels import Labels


def _row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "n": 13,
        "events": 11,
        "ties": "efron",
        "firth": False,
        "monotone": False,
        "ci_method": "wald",
        "test": "Wald",
        "is_reference": False,
        "estimable": True,
        "global_p": None,
        "global_test": None,
        "coef": None,
        "se": None,
        "z": None,
        "events_per_parameter": 11.0,
        "epv_low": False,
    }
    return {**base, **kw}


def _ref(variable: str, level: str, var_label: str, level_label: str, model: str) -> dict[str, Any]:
    return _row(
        term=f"{variable}={level}",
        variable=variable,
        level=level,
        reference=level,
        label=f"{var_label}: {level_label}",
        variable_label=var_label,
        level_label=level_label,
        model=model,
        hr=None,
        lower=None,
        upper=None,
        p=None,
        is_reference=True,
    )


def new_format_rows() -> list[dict[str, Any]]:
    """Cox rows as schema 1.1 lists them: reference rows, one Firth row, one without estimate."""
    uni = "univariable"
    return [
        _ref("ecog_group", "0-1", "ECOG performance status", "0–1", uni),
        _row(
            term="ecog_group=2",
            variable="ecog_group",
            level="2",
            reference="0-1",
            label="ECOG performance status: 2",
            variable_label="ECOG performance status",
            level_label="2",
            model=uni,
            hr=6.84,
            lower=1.56,
            upper=30.03,
            p=0.011,
        ),
        _row(
            term="age=per unit",
            variable="age",
            level="per unit",
            reference=None,
            label="Age, years (per year)",
            variable_label="Age, years",
            level_label="per year",
            model=uni,
            hr=0.94,
            lower=0.80,
            upper=1.09,
            p=0.413,
        ),
        _ref("histology", "adenocarcinoma", "Histology", "Adenocarcinoma", uni),
        _row(
            term="histology=adenosquamous",
            variable="histology",
            level="adenosquamous",
            reference="adenocarcinoma",
            label="Histology: Adenosquamous carcinoma",
            variable_label="Histology",
            level_label="Adenosquamous carcinoma",
            model=uni,
            hr=0.36,
            lower=0.003,
            upper=3.51,
            p=0.44,
            firth=True,
            monotone=True,
            ci_method="profile",
            test="firth_lr",
            global_p=0.12,
            global_test="LR",
        ),
        _row(
            term="histology=squamous",
            variable="histology",
            level="squamous",
            reference="adenocarcinoma",
            label="Histology: Squamous cell carcinoma",
            variable_label="Histology",
            level_label="Squamous cell carcinoma",
            model=uni,
            hr=None,
            lower=None,
            upper=None,
            p=None,
            monotone=True,
            estimable=False,
            global_p=0.12,
            global_test="LR",
        ),
        _ref("ecog_group", "0-1", "ECOG performance status", "0–1", "multivariable"),
        _row(
            term="ecog_group=2",
            variable="ecog_group",
            level="2",
            reference="0-1",
            label="ECOG performance status: 2",
            variable_label="ECOG performance status",
            level_label="2",
            model="multivariable",
            hr=6.10,
            lower=1.30,
            upper=28.62,
            p=0.022,
        ),
    ]


def _with_cox(results: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(results)
    out["cox"] = {"PFSR": rows}
    return out


def _drawn(fig: Figure, column: str) -> dict[int, str]:
    """y position → text of one drawn column."""
    prefix = f"forest-{column}-"
    return {
        int(float(str(t.get_gid()).removeprefix(prefix))): t.get_text()
        for t in fig.axes[0].texts
        if str(t.get_gid() or "").startswith(prefix)
    }


def _markers(fig: Figure) -> set[str]:
    return {
        str(ln.get_gid())
        for ln in fig.axes[0].lines
        if str(ln.get_gid() or "").startswith("forest-marker-")
    }


@pytest.mark.parametrize("model", ["univariable", "multivariable"])
def test_forest_rows_equal_the_cox_rows_term_by_term(results: dict[str, Any], model: str) -> None:
    rows = new_format_rows()
    res = _with_cox(results, rows)
    expected = [r for r in rows if r["model"] == model]
    got = forest_rows(res, "PFSR", model)
    assert [r.term for r in got] == [r["term"] for r in expected]
    assert [r.label for r in got] == [r["label"] for r in expected]
    assert [r.hr for r in got] == [r["hr"] for r in expected]
    assert [r.kind == "reference" for r in got] == [r["is_reference"] for r in expected]


def test_drawn_rows_are_the_forest_rows(results: dict[str, Any]) -> None:
    rows = new_format_rows()
    res = _with_cox(results, rows)
    fig = figure_forest(res["cox"]["PFSR"])
    assert fig is not None
    drawn_hr = [text for _, text in sorted(_drawn(fig, "hr").items())]
    listed = forest_rows(res, "PFSR", "univariable") + forest_rows(res, "PFSR", "multivariable")
    assert len(drawn_hr) == len(listed) == len(rows)
    for row, text in zip(listed, drawn_hr, strict=True):
        if row.kind == "reference":
            assert text == REFERENCE_TEXT
        elif row.kind == "not_estimable":
            assert text == NOT_ESTIMABLE_TEXT
        else:
            assert text == f"{row.hr:.2f} ({row.lower:.2f}–{row.upper:.2f})"
    # a marker only where there is an estimate
    estimated = {gid("forest-marker", r.model, r.term) for r in listed if r.kind == "estimate"}
    assert _markers(fig) == estimated
    labels = [t.strip() for t in _drawn(fig, "label").values()]
    assert f"Adenosquamous carcinoma{FIRTH_MARK}" in labels
    assert "Squamous cell carcinoma" in labels  # not estimable: no Firth mark
    assert "Age, years (per year)" in labels


def test_firth_p_is_a_penalised_likelihood_ratio_p(results: dict[str, Any]) -> None:
    res = _with_cox(results, new_format_rows())
    fig = figure_forest(res["cox"]["PFSR"])
    assert fig is not None
    notes = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "p by penalised likelihood-ratio test" in notes
    assert "‡ Global p of the variable, likelihood-ratio test." in notes
    assert "Efron's method" in notes
    firth = next(r for r in forest_rows(res, "PFSR", "univariable") if r.firth)
    assert firth.test == "firth_lr"
    words = hr_words(new_format_rows()[4], Labels())
    assert "penalised likelihood-ratio test p = 0.440" in words and "Wald" not in words


def test_global_p_sits_on_the_variable_heading(results: dict[str, Any]) -> None:
    res = _with_cox(results, new_format_rows())
    fig = figure_forest(res["cox"]["PFSR"])
    assert fig is not None
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "0.120‡" in texts
    assert texts.count("Histology") == 1


def old_format_monotone_rows() -> list[dict[str, Any]]:
    """Rows as results 1.0 gave them for a monotone fit: ordinary rows, then Firth rows."""
    common = {
        "variable": "histology",
        "reference": "adenocarcinoma",
        "model": "univariable",
        "n": 13,
        "events": 11,
        "ties": "efron",
        "monotone": True,
        "test": "Wald",
    }
    return [
        {
            "term": "sex=male",
            "variable": "sex",
            "level": "male",
            "reference": "female",
            "label": "sex: male",
            "model": "univariable",
            "n": 13,
            "events": 11,
            "hr": 0.70,
            "lower": 0.18,
            "upper": 2.74,
            "p": 0.609,
            "firth": False,
            "monotone": False,
            "test": "Wald",
            "ties": "efron",
        },
        {**common, "term": "histology=adenosquamous", "level": "adenosquamous", "hr": 5e-9}
        | {"lower": 0.0, "upper": None, "p": 0.999, "firth": False},
        {**common, "term": "histology=squamous", "level": "squamous", "hr": 3.57}
        | {"lower": 0.87, "upper": 14.66, "p": 0.077, "firth": False},
        {**common, "term": "histology=adenosquamous", "level": "adenosquamous", "hr": 0.36}
        | {"lower": 0.003, "upper": 3.51, "p": 0.44, "firth": True},
        {**common, "term": "histology=squamous", "level": "squamous", "hr": 3.30}
        | {"lower": 0.91, "upper": 14.10, "p": 0.068, "firth": True},
    ]


def test_old_format_keeps_one_row_per_term_the_firth_one(results: dict[str, Any]) -> None:
    res = _with_cox(results, old_format_monotone_rows())
    got = forest_rows(res, "PFSR", "univariable")
    assert [r.term for r in got] == ["sex=male", "histology=adenosquamous", "histology=squamous"]
    assert [r.firth for r in got] == [False, True, True]
    assert [r.hr for r in got] == [0.70, 0.36, 3.30]
    assert all(r.test == "firth_lr" for r in got if r.firth)  # old results said "Wald"
    # labels in words, never the raw codes
    assert got[0].label == "Sex: Male vs female"
    assert got[1].level_label == "Adenosquamous carcinoma vs adenocarcinoma"
    fig = figure_forest(res["cox"]["PFSR"])
    assert fig is not None
    drawn = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "0.00 (0.00–NA)" not in drawn
    assert "histology" not in drawn and "sex:" not in drawn
    assert drawn.count("Histology") == 1


def test_old_format_non_estimable_without_firth_is_written_not_estimable(
    results: dict[str, Any],
) -> None:
    rows = old_format_monotone_rows()[:3]  # Firth off: only the ordinary monotone rows
    res = _with_cox(results, rows)
    got = forest_rows(res, "PFSR", "univariable")
    # the diverged adenosquamous term has no estimate; squamous keeps its finite one
    assert [r.kind for r in got] == ["estimate", "not_estimable", "estimate"]
    fig = figure_forest(rows)
    assert fig is not None
    assert list(_drawn(fig, "hr").values()).count(NOT_ESTIMABLE_TEXT) == 1
    assert _markers(fig) == {
        gid("forest-marker", "univariable", "sex=male"),
        gid("forest-marker", "univariable", "histology=squamous"),
    }


def test_no_rows_no_figure() -> None:
    assert figure_forest([]) is None
    assert forest_rows({}, "PFSR", "univariable") == []


def test_a_narrow_forest_drops_text_columns_but_keeps_every_row(results: dict[str, Any]) -> None:
    from rechallenge.figures.settings import FigureStyle
    from rechallenge.figures.style import journal_style

    rows = new_format_rows()
    with journal_style(FigureStyle(width=110.0)):
        fig = figure_forest(rows)
    assert fig is not None
    assert fig.get_figwidth() < 7.0
    assert not _drawn(fig, "n") and not _drawn(fig, "hr")  # the Cox table gives them
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Univariable (n = 13, events = 11)" in texts
    labels = _drawn(fig, "label")
    assert len(labels) == len(rows)  # every row still listed
    notes = " ".join(t.get_text() for t in fig.texts)
    assert "see the Cox regression table" in notes


def test_a_single_column_forest_wraps_long_labels(results: dict[str, Any]) -> None:
    from rechallenge.figures.settings import SINGLE_COLUMN_IN, FigureStyle
    from rechallenge.figures.style import journal_style

    rows = old_format_monotone_rows()
    with journal_style(FigureStyle(width="single")):
        fig = figure_forest(rows)
    assert fig is not None
    assert fig.get_figwidth() == pytest.approx(SINGLE_COLUMN_IN)
    texts = [t.get_text().strip() for t in fig.axes[0].texts]
    wrapped = [t for t in texts if t.removesuffix(FIRTH_MARK).endswith("adenocarcinoma")]
    assert wrapped, "the long histology labels continue on a second line"
    assert all(FIRTH_MARK not in t[:-1] for t in texts), "a wrapped label ends with its mark"
    assert len(_drawn(fig, "label")) == 3  # still one labelled line per term


@pytest.mark.parametrize("model", ["univariable", "multivariable"])
def test_forest_rows_are_the_cox_table_rows_term_by_term(
    results: dict[str, Any], model: str
) -> None:
    # The forest plot and the Cox table read the same rows; neither may drop or add a term.
    from rechallenge.figures.forest import forest_rows
    from rechallenge.tables.study import cox_table_terms

    for endpoint in results["cox"]:
        drawn = [row.term for row in forest_rows(results, endpoint, model)]
        assert drawn == cox_table_terms(results, endpoint, model)
    assert [r.term for r in forest_rows(results, "PFSR", "univariable")]  # not vacuous
