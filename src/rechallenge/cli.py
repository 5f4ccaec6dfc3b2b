"""The command line: `rechallenge validate | run | convert | demo | init | drugs | stats`.

Exit codes (the README and every command's --help state them): 0 ok; 1 invalid data (only
the problem report is written); 2 usage error (a missing data path, an unusable output
folder, a missing optional dependency); 3 invalid configuration.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from rechallenge import __version__
from rechallenge.config import StudyConfig, config_template, load_config
from rechallenge.data.mappings import AppliedMapping, MappedDataValidationError, summary_lines
from rechallenge.data.model import Study
from rechallenge.errors import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_USAGE,
    ConfigDeprecationWarning,
    ConfigError,
    DataValidationError,
    OutputFolderError,
    PdfBackendMissingError,
    Problem,
    RechallengeError,
)
from rechallenge.meta_cli import app as meta_app
from rechallenge.plan_cli import app as plan_app
from rechallenge.template_cli import template
from rechallenge.web_cli import serve

DOCS = "docs/getting-started.md and docs/ of the rechallenge source (README.md first)"
EXIT_CODES = (
    "Exit codes: 0 ok; 1 invalid data (only the problem report is written); 2 usage error "
    "(missing data path, unusable output folder, missing optional dependency); "
    "3 invalid configuration."
)

app = typer.Typer(
    name="rechallenge",
    help="A real-world study of ICI rechallenge in advanced NSCLC, from data folder to report.",
    epilog=f"{EXIT_CODES}\n\nDocumentation: {DOCS}.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXAMPLE_COHORT = Path(__file__).resolve().parents[2] / "examples" / "seed_cohort"
MAX_LINES_SHOWN = 200
MAX_WARNINGS_SHOWN = 20

T = TypeVar("T")

DataArgument = Annotated[
    Path | None,
    typer.Argument(
        metavar="DATA",
        help="Study folder of CSV files, an .xlsx workbook, or an OMOP CDM: a .duckdb file "
        "or a folder of OMOP tables (person.parquet, ...). Omit it with --database.",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Read an OMOP CDM from a database: postgresql://user@host/db, or sc://host "
        "for Spark Connect (omop extra).",
    ),
]
SchemaOption = Annotated[
    str | None,
    typer.Option(
        "--schema",
        metavar="NAME",
        help="Schema holding the OMOP tables (default: the one holding `person`).",
    ),
]
ShowIds = Annotated[
    bool,
    typer.Option(
        "--show-ids", help="Show patient IDs and dates in messages and outputs.", metavar=""
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", metavar="FILE", help="Study configuration (YAML)."),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        metavar="",
        help="Replace an output folder that holds other files, or a changed earlier run.",
    ),
]


def _epilog(*examples: str) -> str:
    """Examples, exit codes and where the documentation is, for a command's --help."""
    shown = "\n\n".join(f"  {e}" for e in examples)
    return f"Examples:\n\n{shown}\n\n{EXIT_CODES}\n\nDocumentation: {DOCS}"


def _version(value: bool) -> None:
    if value:
        console.print(f"rechallenge {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version.", metavar=""
        ),
    ] = False,
) -> None:
    """rechallenge: ICI rechallenge studies in advanced NSCLC."""


def report_problems(problems: tuple[Problem, ...], show_ids: bool, csv_path: Path | None) -> None:
    """One line per problem (the first 200), a count per rule, and where the full list is."""
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
    if csv_path is not None:
        err_console.print(f"Full list written to {csv_path}", markup=False, soft_wrap=True)


def write_problem_csv(problems: tuple[Problem, ...], path: Path, show_ids: bool) -> None:
    """The full problem list, privacy rules applied."""
    from rechallenge.pipeline import write_problem_csv as write

    write(problems, path, show_ids)


def _fail(message: str, code: int) -> NoReturn:
    """One line on stderr, then exit with `code`."""
    label = "configuration error" if code == EXIT_CONFIG else "error"
    err_console.print(f"[bold red]{label}[/] ", end="")
    err_console.print(message, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _require_data(data: Path) -> None:
    """A missing data path is a usage error (exit 2), named before anything is read."""
    if not data.exists():
        _fail(f"{data}: no such file or folder", EXIT_USAGE)


def _source_settings(
    data: Path | None, database: str | None, schema: str | None, config: StudyConfig
) -> tuple[Path | None, StudyConfig]:
    """The data path (checked) and the configuration with --database/--schema applied."""
    if data is None and database is None and config.omop.database is None and not config.spark:
        _fail("give DATA (a folder, workbook or .duckdb file) or --database URL", EXIT_USAGE)
    if data is not None:
        _require_data(data)
    if database is None and schema is None:
        return data, config
    omop = config.omop.model_copy(
        update={
            "database": database or config.omop.database,
            "schema_name": schema or config.omop.schema_name,
        }
    )
    return data, config.model_copy(update={"omop": omop})


def _config(path: Path | None) -> StudyConfig:
    """The configuration, or exit 3 with every problem; renamed keys print a notice."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigDeprecationWarning)
        try:
            config = load_config(path)
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG)
    for warning in caught:
        if issubclass(warning.category, ConfigDeprecationWarning):
            err_console.print(f"[yellow]notice[/] {warning.message}", soft_wrap=True)
    return config


def _or_exit(action: Callable[[], T], show_ids: bool, report_dir: Path | None) -> T:
    """Run `action`; each known failure becomes its message and exit code, never a traceback."""
    from rechallenge.pipeline import ProblemsWritten

    try:
        return action()
    except ProblemsWritten as exc:
        report_problems(exc.problems, show_ids, exc.path)
        raise typer.Exit(EXIT_DATA) from None
    except DataValidationError as exc:
        csv_path = None
        if report_dir is not None:
            csv_path = _write_report_dir(exc.problems, report_dir, show_ids)
        report_problems(exc.problems, show_ids, csv_path)
        raise typer.Exit(EXIT_DATA) from None
    except ConfigError as exc:
        _fail(str(exc), EXIT_CONFIG)
    except (OutputFolderError, PdfBackendMissingError, FileNotFoundError) as exc:
        _fail(str(exc), EXIT_USAGE)
    except RechallengeError as exc:  # e.g. an analysis that valid data cannot support
        _fail(str(exc), EXIT_DATA)


def _write_report_dir(problems: tuple[Problem, ...], folder: Path, show_ids: bool) -> Path:
    """`validate --report FOLDER`: the problem list as FOLDER/problems.csv."""
    if folder.exists() and not folder.is_dir():
        _fail(f"--report {folder} is a file, not a folder", EXIT_USAGE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "problems.csv"
        write_problem_csv(problems, path, show_ids)
    except OSError as exc:
        _fail(f"cannot write {folder / 'problems.csv'}: {exc.strerror or exc}", EXIT_USAGE)
    return path


def show_mappings(applied: Sequence[AppliedMapping], target: Console) -> None:
    """`validate`'s list of the declared mappings applied (``data:``), one line per rule."""
    if not applied:
        return
    target.print(f"Declared mappings applied ({len(applied)} rule(s), MAP-001 in run.log):")
    for line in summary_lines(applied):
        target.print(f"  {line}", markup=False, soft_wrap=True)


def _load_showing_mappings(data: Path | None, settings: StudyConfig) -> Study:
    """`load_validated`; when declared mappings were applied, a refusal shows them first."""
    from rechallenge.pipeline import load_validated

    try:
        return load_validated(data, settings)
    except MappedDataValidationError as exc:
        show_mappings(exc.applied, err_console)
        raise


@app.command(
    epilog=_epilog(
        "rechallenge validate my-study/",
        "rechallenge validate my-study.xlsx --config study.yaml --report checks/",
    )
)
def validate(
    data: DataArgument = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
    schema: SchemaOption = None,
    show_ids: ShowIds = False,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FOLDER",
            help="Also write every problem and warning to FOLDER/problems.csv.",
        ),
    ] = None,
) -> None:
    """Check a study: one line per problem, or a summary of what was loaded and its warnings.

    Runs every check `run` makes before its statistics (reading, validation, the rules that
    derive responses and resistance), so the two never disagree.
    """
    from rechallenge.derive.patients import derive_patient_facts
    from rechallenge.pipeline import check_study_names

    data, settings = _source_settings(data, database, schema, _config(config))
    study = _or_exit(lambda: _load_showing_mappings(data, settings), show_ids, report)
    _or_exit(lambda: check_study_names(study, settings), show_ids, None)
    # the rules stage too, so that validate reports every problem and warning run would
    facts = _or_exit(lambda: derive_patient_facts(study, settings), show_ids, report)
    table = Table(title=f"Study loaded: {data.name if data else 'database'}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in study.summary().items():
        table.add_row(key.replace("_", " ").replace("ici", "ICI"), str(value))
    console.print(table)
    show_mappings(study.mappings_applied, console)
    notes = (*study.warnings, *facts.warnings)
    shown = [w for w in notes if w.code != "MAP-001"]  # the mappings table says them
    for warning in shown[:MAX_WARNINGS_SHOWN]:
        console.print("[yellow]warning[/] ", end="")
        console.print(warning.render(show_ids), markup=False, soft_wrap=True)
    if report is not None and notes:
        path = _write_report_dir(notes, report, show_ids)
        console.print(f"Warnings written to {path}", markup=False, soft_wrap=True)
    imputed = len(study.imputations)
    if not notes and not imputed:
        console.print("[green]No problems found.[/]")
        return
    where = "listed above" if len(shown) <= MAX_WARNINGS_SHOWN else "the first ones above"
    if len(shown) > MAX_WARNINGS_SHOWN and report is None:
        where += "; --report FOLDER writes them all"
    console.print(
        f"[green]No errors[/]; [yellow]{len(notes)} warning(s)[/] ({where}) and "
        f"[yellow]{imputed} imputed date(s)[/] (by the rule data.partial_dates; "
        "`rechallenge run` lists each in run.log)."
    )


@app.command(
    epilog=_epilog(
        "rechallenge run my-study/ --out results/",
        "rechallenge run my-study.xlsx --config study.yaml --out results/ --pdf",
        "rechallenge run my-study/ --out results/ --pseudonym-key ../keys/key.csv",
        "rechallenge run --database postgresql://me@dbhost/omop --schema cdm --out results/",
    )
)
def run(
    data: DataArgument = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="FOLDER",
            help="Output folder. It is written whole or not at all; an earlier run there is "
            "replaced; a folder holding other files is refused unless --force.",
        ),
    ] = Path("rechallenge-output"),
    config: ConfigOption = None,
    show_ids: ShowIds = False,
    pdf: Annotated[
        bool, typer.Option("--pdf", metavar="", help="Also write report.pdf (pdf extra).")
    ] = False,
    force: ForceOption = False,
    pseudonym_key: Annotated[
        Path | None,
        typer.Option(
            "--pseudonym-key",
            metavar="FILE",
            help="Write pseudonym -> patient ID to FILE (outside --out). It identifies "
            "patients: keep it with the source data.",
        ),
    ] = None,
    database: DatabaseOption = None,
    schema: SchemaOption = None,
) -> None:
    """Run the whole study: cohort, responses, endpoints, statistics, tables, figures, report."""
    from rechallenge.pipeline import run_study

    data, settings = _source_settings(data, database, schema, _config(config))
    _or_exit(
        lambda: run_study(
            data,
            out,
            settings,
            show_ids=show_ids,
            pdf=pdf or settings.output.pdf,
            console=console,
            force=force,
            pseudonym_key=pseudonym_key,
        ),
        show_ids,
        None,
    )


@app.command(
    epilog=_epilog(
        "rechallenge convert examples/seed_cohort --to omop study.duckdb",
        "rechallenge convert my-study.xlsx --to omop omop-tables/ --force",
        "rechallenge run study.duckdb --out results/",
    )
)
def convert(
    data: Annotated[
        Path,
        typer.Argument(
            metavar="DATA",
            help="The study: a folder of CSV files, an .xlsx workbook, or any other source "
            "`run` reads.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Argument(
            metavar="OUT",
            help="Where to write: a .duckdb file (schema cdm), else a folder of Parquet "
            "tables. Written whole or not at all.",
            show_default=False,
        ),
    ],
    to: Annotated[
        str, typer.Option("--to", metavar="FORMAT", help="The target model: omop (CDM v5.4).")
    ] = "omop",
    config: ConfigOption = None,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Replace an existing OUT.")
    ] = False,
    show_ids: ShowIds = False,
) -> None:
    """Write a study as OMOP CDM v5.4 tables that `rechallenge run` reads back unchanged.

    Lesions, graded adverse events and the lines follow the project convention
    (docs/omop.md), declared in the `metadata` table. The data are validated first, as by
    `validate`: a study with problems is refused and nothing is written.
    """
    if to != "omop":
        _fail(f"--to {to}: the only target is omop", EXIT_USAGE)
    _require_data(data)
    if out.exists() and not force:
        _fail(f"{out} exists: add --force to replace it", EXIT_USAGE)
    settings = _config(config)
    try:
        from rechallenge.sources.omop.convert import convert_to_omop
    except ImportError as exc:
        _fail(
            f"converting to OMOP needs the omop extra ({exc.name}): "
            "pip install 'rechallenge[omop]'",
            EXIT_USAGE,
        )
    with err_console.status("Reading and validating the study"):
        study = _or_exit(lambda: _load_showing_mappings(data, settings), show_ids, None)
    with err_console.status(f"Writing OMOP CDM v5.4 tables to {out.name}"):
        try:
            counts = _or_exit(lambda: convert_to_omop(study, out, force=force), show_ids, None)
        except OSError as exc:
            _fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_USAGE)
    kind = "DuckDB file, schema cdm" if out.suffix.lower() == ".duckdb" else "Parquet folder"
    console.print(
        f"Converted {counts['person']} patient(s) to OMOP CDM v5.4: {len(counts)} tables, "
        f"{sum(counts.values())} rows ({kind}) in {out}",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"Next: rechallenge run {out} --out results/", markup=False, soft_wrap=True)


@app.command(epilog=_epilog("rechallenge demo", "rechallenge demo --out demo-output"))
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FOLDER", help="Output folder.")
    ] = Path("demo-output"),
    force: ForceOption = False,
) -> None:
    """Run the study on the bundled synthetic example cohort."""
    if not EXAMPLE_COHORT.is_dir():
        _fail("the example cohort is not installed with this copy of rechallenge", EXIT_USAGE)
    console.print(f"Example cohort: {EXAMPLE_COHORT}")
    run(EXAMPLE_COHORT, out=out, config=None, show_ids=False, pdf=False, force=force)


@app.command(epilog=_epilog("rechallenge init", "rechallenge init my-study.yaml --force"))
def init(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="Where to write the template.")
    ] = Path("study.yaml"),
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Overwrite an existing file.")
    ] = False,
) -> None:
    """Write a commented configuration template: every setting, criterion and default."""
    if path.exists() and not force:
        _fail(f"{path} exists; pass --force to overwrite it", EXIT_USAGE)
    try:
        path.write_text(config_template(), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_USAGE)
    console.print(f"Configuration template written to {path}")


@app.command(epilog=_epilog("rechallenge drugs"))
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
app.add_typer(
    meta_app, name="meta", help="Meta-analysis of published studies (proportions, medians)."
)
app.add_typer(plan_app, name="plan", help="Plan the prospective trial (events, Simon, simulation).")
app.command(epilog=_epilog("rechallenge template study.xlsx"))(template)
app.command(epilog=_epilog("rechallenge serve", "rechallenge serve --data-dir my-studies"))(serve)


def main() -> None:
    """Console-script entry point."""
    app()
