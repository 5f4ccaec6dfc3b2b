"""The run page's download list in words: each table, figure and dataset by its title.

Tables are named by their own caption (the ``<title>`` of the table's HTML file), figures by
the first clause of their caption, datasets by their CDISC ADaM name and what a row is; each
has one link per format. File stems (``table_cox_pfsr``) never reach the page as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rechallenge.figures.render import figure_captions
from rechallenge.labels import humanise

TOP_FILES = (
    ("report.html", "Report (HTML)"),
    ("manuscript.docx", "Manuscript (Word)"),
    ("results.json", "Results (JSON)"),
    ("study.yaml", "Configuration (YAML)"),
    ("run.log", "Run log"),
)
FORMATS = {
    "png": "PNG",
    "svg": "SVG",
    "pdf": "PDF",
    "csv": "CSV",
    "docx": "Word",
    "html": "HTML",
    "xlsx": "Excel",
    "parquet": "Parquet",
    "json": "JSON",
}
DATASETS = {
    "adsl": "ADSL: one row per patient",
    "adtte": "ADTTE: one row per patient and time-to-event endpoint",
    "adrs": "ADRS: one row per tumour response assessment",
    "adae": "ADAE: one row per adverse event",
}
FOLDERS = (("tables", "Tables"), ("figures", "Figures"), ("datasets", "Datasets"))
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


@dataclass(frozen=True)
class Download:
    """One output by its title, with a (path, format) link per file."""

    title: str
    links: tuple[tuple[str, str], ...]


def _table_title(folder: Path, stem: str) -> str:
    page = folder / f"{stem}.html"
    if page.is_file() and not page.is_symlink():
        match = TITLE.search(page.read_text(encoding="utf-8", errors="replace")[:4000])
        if match:
            return " ".join(html.unescape(match.group(1)).split())
    return humanise(stem)


def _figure_title(captions: Mapping[str, str], stem: str) -> str:
    caption = captions.get(stem)
    if not caption:
        return humanise(stem)
    number, dot, text = caption.partition(". ")
    head, text = (number + ".", text) if dot and number.startswith("Figure") else ("", caption)
    first = re.split(r"[,;]\s|\.$", text, maxsplit=1)[0]
    return f"{head} {first}".strip()


def _title(folder: str, path: Path, stem: str, captions: Mapping[str, str]) -> str:
    if folder == "tables":
        return _table_title(path, stem)
    if folder == "figures":
        return _figure_title(captions, stem)
    return DATASETS.get(stem, humanise(stem))


def _ordered(formats: list[str]) -> list[str]:
    """Formats in `FORMATS` order (PNG before SVG and PDF), unknown ones last."""
    rank = {f: i for i, f in enumerate(FORMATS)}
    return sorted(formats, key=lambda f: (rank.get(f, len(rank)), f))


def downloads(out: Path, results: Mapping[str, Any]) -> list[tuple[str, list[Download]]]:
    """Every file of the run's folder, grouped under headings, in a stable order."""
    top = [Download(text, ((name, ""),)) for name, text in TOP_FILES if (out / name).is_file()]
    groups = [("Report and results", top)]
    captions = figure_captions(results)
    for folder, heading in FOLDERS:
        where = out / folder
        stems: dict[str, list[str]] = {}
        for path in sorted(where.glob("*")) if where.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                stems.setdefault(path.stem, []).append(path.suffix.lstrip("."))
        items = [
            Download(
                _title(folder, where, stem, captions),
                tuple((f"{folder}/{stem}.{f}", FORMATS.get(f, f.upper())) for f in _ordered(fmts)),
            )
            for stem, fmts in stems.items()
        ]
        if items:
            groups.append((heading, items))
    return groups
