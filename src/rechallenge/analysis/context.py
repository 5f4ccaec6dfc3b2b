"""Context: this study's ORR, DCR and median PFSR against the pooled published studies.

On when the configuration names a literature file (``literature: {path: ...}``, a CSV in
the format of ``examples/literature/rechallenge_nsclc.csv``): each endpoint with at least
two usable studies is pooled with `rechallenge.stats.meta` and stored beside this study's
own estimate, so that tables, the forest figure and the report text only read.

Steps, per endpoint:

1. ORR: rows with ``n`` and ``orr_events``; DCR: ``n`` and ``dcr_events``; median PFS:
   ``pfs_median``, ``pfs_lower``, ``pfs_upper`` (a row with ``time_unit`` ``days`` is
   converted with ``endpoints.days_per_month``). Rows missing a value are left out and
   named in ``excluded``.
2. Proportions: `meta_proportions` with the configured measure, method and test; medians:
   `meta_medians` (log median, SE from the 95% CI width).
3. This study: the rechallenge course's ORR/DCR (count, n, CI as in the efficacy section)
   and the all-patient PFSR median with its CI from the Kaplan–Meier section.

Results key ``context``: ``file``, ``settings`` (measure, method, hartung_knapp,
conf_level), ``endpoints`` (``orr``, ``dcr``, ``pfs``: ``title``, ``unit``, ``meta``
(the ``rechallenge meta`` JSON), ``this_study``, ``excluded``) and ``skipped`` (endpoint ->
reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from rechallenge.analysis.context_settings import LiteratureSettings
from rechallenge.errors import AnalysisError
from rechallenge.stats.meta import meta_medians, meta_proportions

if TYPE_CHECKING:
    from rechallenge.config import StudyConfig

__all__ = ["LiteratureSettings", "context_results", "context_section"]

TITLES: Final = {
    "orr": "Objective response rate",
    "dcr": "Disease control rate",
    "pfs": "Median PFS of the rechallenge course",
}
MIN_STUDIES: Final = 2


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise AnalysisError(f"literature file {path.name} cannot be read: {exc}") from exc


def _usable(lit: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Rows with every column filled (numbers), and the study names of the others."""
    missing = [c for c in ["study", *columns] if c not in lit.columns]
    if missing:
        raise AnalysisError(f"literature file lacks column(s) {', '.join(missing)}")
    numbers = lit[columns].apply(pd.to_numeric, errors="coerce")
    ok = numbers.notna().all(axis=1)
    return lit[ok].assign(**{c: numbers.loc[ok, c] for c in columns}), [
        str(s) for s in lit.loc[~ok, "study"]
    ]


def _proportion_block(
    lit: pd.DataFrame, column: str, settings: LiteratureSettings, this: Mapping[str, Any] | None
) -> dict[str, Any] | str:
    rows, excluded = _usable(lit, ["n", column])
    if len(rows) < MIN_STUDIES:
        return f"{len(rows)} study(ies) report it"
    res = meta_proportions(
        rows[column],
        rows["n"],
        study=list(rows["study"].astype(str)),
        measure=settings.measure,
        method=settings.method,
        knha=settings.hartung_knapp,
        conf_level=settings.conf_level,
    )
    this_study = None
    if isinstance(this, Mapping) and this.get("estimate") is not None:
        this_study = {
            "label": "This study",
            "events": this.get("count"),
            "n": this.get("n"),
            "estimate": this.get("estimate"),
            "ci_lower": this.get("lower"),
            "ci_upper": this.get("upper"),
            "method": this.get("method"),
        }
    return {
        "unit": "percent",
        "meta": res.to_dict(),
        "adjusted": list(res.adjusted),
        "this_study": this_study,
        "excluded": excluded,
    }


def _pfs_block(
    lit: pd.DataFrame, settings: LiteratureSettings, dpm: float, km: Mapping[str, Any] | None
) -> dict[str, Any] | str:
    rows, excluded = _usable(lit, ["pfs_median", "pfs_lower", "pfs_upper"])
    if len(rows) < MIN_STUDIES:
        return f"{len(rows)} study(ies) report it with a CI"
    unit = rows.get("time_unit", pd.Series("months", index=rows.index)).fillna("months")
    bad = sorted(set(unit) - {"months", "days"})
    if bad:
        raise AnalysisError(f"literature file: time_unit must be months or days, got {bad}")
    scale = unit.map({"months": 1.0, "days": 1.0 / dpm})
    res = meta_medians(
        rows["pfs_median"] * scale,
        rows["pfs_lower"] * scale,
        rows["pfs_upper"] * scale,
        study=list(rows["study"].astype(str)),
        method=settings.method,
        knha=settings.hartung_knapp,
        conf_level=settings.conf_level,
    )
    this_study = None
    if isinstance(km, Mapping) and km.get("median_months") is not None:
        this_study = {
            "label": "This study",
            "estimate": km.get("median_months"),
            "ci_lower": km.get("lower"),
            "ci_upper": km.get("upper"),
            "method": km.get("ci_method"),
        }
    return {
        "unit": "months",
        "meta": res.to_dict(),
        "converted_from_days": [
            str(s) for s, u in zip(rows["study"], unit, strict=True) if u == "days"
        ],
        "this_study": this_study,
        "excluded": excluded,
    }


def context_section(results: Mapping[str, Any], config: StudyConfig) -> dict[str, Any] | None:
    """The ``context`` results section, or None when no literature file is configured."""
    settings = getattr(config, "literature", None)
    if not isinstance(settings, LiteratureSettings):
        return None
    lit = _read(settings.path)
    rechallenge = (results.get("efficacy") or {}).get("rechallenge") or {}
    km = ((results.get("km") or {}).get("PFSR") or {}).get("all")
    rates = {
        k: {**v, "n": rechallenge.get("n")}
        if isinstance(v := rechallenge.get(k), Mapping)
        else None
        for k in ("orr", "dcr")
    }
    blocks: dict[str, dict[str, Any] | str] = {
        "orr": _proportion_block(lit, "orr_events", settings, rates["orr"]),
        "dcr": _proportion_block(lit, "dcr_events", settings, rates["dcr"]),
        "pfs": _pfs_block(lit, settings, config.endpoints.days_per_month, km),
    }
    return {
        "file": settings.path.name,
        "n_studies": len(lit),
        "settings": settings.model_dump(mode="json", exclude={"path"}),
        "endpoints": {
            k: {"title": TITLES[k], **v} for k, v in blocks.items() if isinstance(v, dict)
        },
        "skipped": {k: v for k, v in blocks.items() if isinstance(v, str)},
    }


def context_results(results: Mapping[str, Any], config: StudyConfig) -> dict[str, Any]:
    """``{"context": ...}`` to merge into the results, or ``{}`` when the section is off."""
    section = context_section(results, config)
    return {} if section is None else {"context": section}
