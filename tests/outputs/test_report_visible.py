"""Visible text of the report and the manuscript, and the check for configuration codes
(helpers shared by the report and manuscript tests, tested here).

A configuration code is a word with an underscore inside it (``smoking_status``) or the
phrase ``setting '``. File names (``adverse_events.csv``) are data, not codes, and are
allowed; so are the SHA-256 hashes of the manifest.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from docx import Document

CODE = re.compile(r"\b\w+_\w+\b")
FILE_NAME = re.compile(r"\b[\w.-]+\.(csv|xlsx|xls|parquet|json|ya?ml|toml|txt|sas7bdat)\b")


class _Visible(HTMLParser):
    """Collects the text a reader sees: no script, style or head content."""

    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self, skip_tables: bool) -> None:
        super().__init__()
        self.skip_tables = skip_tables
        self.depth = 0
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        journal = tag == "table" and ("class", "journal") in attrs and self.skip_tables
        if tag in self.HIDDEN or journal:
            self.depth += 1
        if tag == "table":
            self.stack.append(journal)

    def handle_endtag(self, tag: str) -> None:
        if (tag == "table" and self.stack and self.stack.pop() and self.depth) or (
            tag in self.HIDDEN and self.depth
        ):
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str, *, skip_tables: bool = False) -> str:
    """The report's visible text, one line per text node.

    ``skip_tables`` leaves out the study tables (``table.journal``), whose words the table
    builders own, to check the report's own prose, captions and appendix alone.
    """
    parser = _Visible(skip_tables)
    parser.feed(html)
    return "\n".join(parser.parts)


def docx_text(path: Path) -> str:
    """Every paragraph and every table cell of a Word document, one per line."""
    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines += [cell.text for cell in row.cells]
    return "\n".join(lines)


def codes_in(text: str) -> list[str]:
    """Configuration codes found in ``text`` (file names are not codes)."""
    text = FILE_NAME.sub(" ", text)
    found = CODE.findall(text)
    if "setting '" in text:
        found.append("setting '")
    return sorted(set(found))


def test_codes_are_found_and_file_names_are_not() -> None:
    assert codes_in("Smoking history by smoking_status (setting 'log')") == [
        "setting '",
        "smoking_status",
    ]
    assert codes_in("adverse_events.csv e7dd67a1 — Age < 18 or > 75 years") == []


def test_visible_text_skips_scripts_styles_and_optionally_tables() -> None:
    html = (
        "<html><head><title>t_x</title><style>a_b{}</style></head><body><p>Shown</p>"
        '<table class="journal"><tr><td>in_table</td></tr></table><p>After</p>'
        "<script>x_y()</script></body></html>"
    )
    assert visible_text(html) == "Shown\nin_table\nAfter"
    assert visible_text(html, skip_tables=True) == "Shown\nAfter"
