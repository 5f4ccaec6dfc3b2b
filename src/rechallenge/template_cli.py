"""``rechallenge template``: an Excel entry template or a REDCap data dictionary.

Both are generated from the data contract (`rechallenge.data.schema`), so what they ask for
is exactly what validation accepts. Exit codes: 0 written; 2 usage error (an existing file
without ``--force``, an unwritable path, a wrong suffix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rechallenge.errors import EXIT_USAGE

console = Console(highlight=False, stderr=False)


def template(
    path: Annotated[
        Path | None,
        typer.Argument(metavar="FILE", help="Where to write the Excel template (.xlsx)."),
    ] = None,
    redcap: Annotated[
        Path | None,
        typer.Option(
            "--redcap",
            metavar="CSV",
            help="Write a REDCap data dictionary (to upload when creating a project) instead.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Overwrite an existing file.")
    ] = False,
) -> None:
    """Write an entry template generated from the data model: Excel workbook or REDCap.

    Examples: `rechallenge template study.xlsx`;
    `rechallenge template --redcap dictionary.csv`.
    The filled workbook, or the REDCap project's CSV export, is read by `rechallenge
    validate` and `rechallenge run` as it is.
    """
    if (path is None) == (redcap is None):
        _fail("give either FILE (an .xlsx to write) or --redcap CSV, not both or neither")
    target = redcap if redcap is not None else path
    assert target is not None
    expected = ".csv" if redcap is not None else ".xlsx"
    if target.suffix.lower() != expected:
        _fail(f"{target.name}: the file must end in {expected}")
    if target.exists() and not force:
        _fail(f"{target} exists; pass --force to overwrite it")
    try:
        if redcap is not None:
            from rechallenge.data.redcap import write_dictionary

            write_dictionary(target)
            what = "REDCap data dictionary"
        else:
            from rechallenge.data.template import write_template

            write_template(target)
            what = "Excel entry template"
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror or exc}")
    console.print(f"{what} written to {target}", markup=False, soft_wrap=True)


def _fail(message: str) -> None:
    console.print(f"[red]error[/] {message}", soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)
