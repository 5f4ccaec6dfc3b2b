"""The command line: `rechallenge validate | run | demo | init | drugs | stats`.

Exit codes: 0 ok, 1 invalid data or configuration (only the problem report is written),
2 usage error.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rechallenge import __version__
from rechallenge.config import config_template, load_config
from rechallenge.errors import ConfigError, DataValidationError, Problem

app = typer.Typer(
    name="rechallenge",
    help="A real-world study of ICI rechallenge in advanced NSCLC, from data folder to report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXAMPLE_COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
MAX_LINES_SHOWN = 200

ShowIds = Annotated[
    bool, typer.Option("--show-ids", help="Show patient IDs and dates in messages and outputs.")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Study configuration (YAML).", exists=True)
]


def _version(value: bool) -> None:
    if value:
        console.print(f"rechallenge {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """rechallenge: ICI rechallenge studies in advanced NSCLC."""


def report_problems(problems: tuple[Problem, ...], show_ids: bool, out: Path | None) -> None:
    """One line per problem (the first 200), a count per rule, and the full list as CSV."""
    err_console.print(f"[bold red]{len(problems)} problem(s) found in the study data[/]")
    for problem in problems[:MAX_LINES_SHOWN]:
        err_console.print(problem.render(show_ids), markup=False, soft_wrap=True)
    if len(problems) > MAX_LINES_SHOWN:
        err_console.print(f"... and {len(problems) - MAX_LINES_SHOWN} more (see problems.csv)")
    summary = Table(title="Problems per rule")
    summary.add_column("rule")
    summary.add_column("count", justify="right")
    for code, count in sorted(Counter(p.code for p in problems).items()):
        summary.add_row(code, str(count))
    err_console.print(summary)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_problem_csv(problems, out / "problems.csv", show_ids)
        err_console.print(f"Full list written to {out / 'problems.csv'}")


def write_problem_csv(problems: tuple[Problem, ...], path: Path, show_ids: bool) -> None:
    """The full problem list, privacy rules applied."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "file", "row", "column", "message", "value", "fix"])
        for p in problems:
            shown = p.value if (show_ids or not p.identifying) else ""
            writer.writerow([p.code, p.table, p.row or "", p.column or "", p.message, shown, p.fix])


@app.command()
def validate(
    data: Annotated[Path, typer.Argument(help="Study folder of CSV files, or an .xlsx workbook.")],
    config: ConfigOption = None,
    show_ids: ShowIds = False,
    report: Annotated[
        Path | None, typer.Option(help="Also write the full problem list to this folder.")
    ] = None,
) -> None:
    """Check a study: one line per problem, or a summary of what was loaded."""
    from rechallenge.pipeline import load_validated

    study = _or_exit(lambda: load_validated(data, load_config(config)), show_ids, report)
    table = Table(title=f"Study loaded: {data.name}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in study.summary().items():
        table.add_row(key.replace("_", " ").replace("ici", "ICI"), str(value))
    console.print(table)
    for warning in study.warnings:
        console.print(f"[yellow]warning[/] {warning.render(show_ids)}", markup=True)
    console.print("[green]No problems found.[/]")


def _or_exit(action, show_ids: bool, out: Path | None):  # type: ignore[no-untyped-def]
    """Run `action`; bad data exits 1 after reporting, a bad configuration too."""
    try:
        return action()
    except DataValidationError as exc:
        report_problems(exc.problems, show_ids, out)
        raise typer.Exit(1) from None
    except ConfigError as exc:
        err_console.print(f"[bold red]configuration error[/] {exc}", markup=True)
        raise typer.Exit(1) from None


@app.command()
def run(
    data: Annotated[Path, typer.Argument(help="Study folder of CSV files, or an .xlsx workbook.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "rechallenge-output"
    ),
    config: ConfigOption = None,
    show_ids: ShowIds = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf.")] = False,
) -> None:
    """Run the whole study: cohort, responses, endpoints, statistics, tables, figures, report."""
    from rechallenge.pipeline import run_study

    settings = _or_exit(lambda: load_config(config), show_ids, None)
    _or_exit(
        lambda: run_study(data, out, settings, show_ids=show_ids, pdf=pdf, console=console),
        show_ids,
        out,
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo-output"),
) -> None:
    """Run the study on the bundled synthetic example cohort."""
    if not EXAMPLE_COHORT.is_dir():
        err_console.print("The example cohort is not installed with this copy of rechallenge.")
        raise typer.Exit(1)
    console.print(f"Example cohort: {EXAMPLE_COHORT}")
    run(EXAMPLE_COHORT, out=out, config=None, show_ids=False, pdf=False)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the template.")] = Path("study.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration template with every default."""
    if path.exists() and not force:
        err_console.print(f"{path} exists; pass --force to overwrite it.")
        raise typer.Exit(2)
    path.write_text(config_template(), encoding="utf-8")
    console.print(f"Configuration template written to {path}")


@app.command()
def drugs() -> None:
    """List the drug dictionary: generic names, classes and aliases."""
    from rechallenge.data.drugs import load_dictionary

    dictionary = load_dictionary()
    table = Table(title=f"Drug dictionary {dictionary.version}")
    for column in ("generic name", "classes", "aliases"):
        table.add_column(column)
    aliases: dict[str, set[str]] = {}
    for key, drug in dictionary.index.items():
        aliases.setdefault(drug.inn, set()).add(key)
    for drug in dictionary.drugs:
        names = sorted(a for a in aliases.get(drug.inn, set()) if a != drug.inn)
        table.add_row(drug.inn, ", ".join(sorted(drug.classes)), ", ".join(names[:6]))
    console.print(table)


def _mount_stats() -> None:
    try:
        from rechallenge.stats_cli import app as stats_app
    except ImportError:  # pragma: no cover - the statistics CLI ships with the package
        return
    app.add_typer(
        stats_app, name="stats", help="Survival statistics on any CSV (km, logrank, cox)."
    )


_mount_stats()


def main() -> None:
    """Console-script entry point."""
    app()
