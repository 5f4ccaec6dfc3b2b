"""Figures as inline SVG for the HTML report: rendered, checked and given unique ids.

Inline SVG in HTML needs no namespace declarations, so they are dropped together with the
RDF metadata block (``xlink:href`` becomes ``href``): the page then names no URL at all.
Several SVG documents inlined in one HTML page share one id namespace, so every ``id`` and
every reference to one (``href="#…"``, ``url(#…)``) is prefixed with the figure's stem. Before
inlining, the SVG is parsed with defusedxml and refused if it contains scripts, foreign
objects, event-handler attributes or references to anything outside the document.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Final

from defusedxml import ElementTree
from markupsafe import Markup
from matplotlib.figure import Figure

from rechallenge.figures.style import SAVE_METADATA, journal_style

FORBIDDEN_TAGS: Final[frozenset[str]] = frozenset({"script", "foreignobject", "iframe", "embed"})
_ID = re.compile(r'\bid="([^"]+)"')
_HREF = re.compile(r'(\bhref=")#([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>", re.IGNORECASE)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def figure_svg(fig: Figure) -> str:
    """The figure as SVG text, rendered with the journal settings."""
    buffer = io.StringIO()
    with journal_style():
        fig.savefig(buffer, format="svg", metadata=SAVE_METADATA["svg"])
    return buffer.getvalue()


def check_svg(svg: str) -> None:
    """Raise ValueError unless ``svg`` is a plain, self-contained SVG document."""
    root = ElementTree.fromstring(svg)
    if not root.tag.lower().endswith("svg"):
        raise ValueError("not an SVG document")
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in FORBIDDEN_TAGS:
            raise ValueError(f"SVG contains a <{tag}> element")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise ValueError(f"SVG contains an event handler attribute {local!r}")
            if local == "href" and not value.startswith(("#", "data:image/png;base64,")):
                raise ValueError("SVG refers to an external resource")


def inline_svg(svg: str, prefix: str) -> Markup:
    """A checked SVG with ids made unique by ``prefix``, ready to place in HTML."""
    check_svg(svg)
    safe_prefix = re.sub(r"[^A-Za-z0-9_-]", "-", prefix)
    text = _PROLOG.sub("", svg).strip()
    text = _METADATA.sub("", text)
    text = _XMLNS.sub("", text).replace("xlink:href=", "href=")
    text = _ID.sub(lambda m: f'id="{safe_prefix}-{m.group(1)}"', text)
    text = _HREF.sub(lambda m: f'{m.group(1)}#{safe_prefix}-{m.group(2)}"', text)
    text = _URL.sub(lambda m: f"url(#{safe_prefix}-{m.group(1)})", text)
    return Markup(text)


def inline_file(path: Path, prefix: str, alt: str) -> Markup:
    """An SVG file inlined, or a PNG embedded as a data URI (with ``alt`` text)."""
    path = Path(path)
    if path.suffix.lower() != ".svg" and path.with_suffix(".svg").exists():
        path = path.with_suffix(".svg")
    if path.suffix.lower() == ".svg":
        return inline_svg(path.read_text(encoding="utf-8"), prefix)
    if path.suffix.lower() == ".png":
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return Markup('<img src="data:image/png;base64,{}" alt="{}">').format(data, alt)
    raise ValueError(f"cannot inline a {path.suffix or 'suffix-less'} file; give SVG or PNG")
