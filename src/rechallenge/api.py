"""Run a study from Python or a notebook: `run_study(data) -> StudyResult`.

    >>> import rechallenge
    >>> result = rechallenge.run_study("examples/seed_cohort")        # doctest: +SKIP
    >>> result.cohort.frame                       # the attrition table as a DataFrame
    >>> result.km.frame                           # medians per endpoint and stratum
    >>> result.figure("figure1_km_pfs")           # a matplotlib Figure

`run_study` runs the same pipeline as `rechallenge run`: with `out` it writes the same
folder (atomically, see `rechallenge.run_folder`); without, nothing is written. The
result is frozen: the results dict is exposed read-only, the tables are pandas DataFrames
built afresh on each access from the results (so editing one never changes another).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from rechallenge.config import StudyConfig, config_from_mapping, load_config
from rechallenge.errors import RechallengeError

ConfigLike = StudyConfig | Mapping[str, Any] | str | Path | None


def as_config(config: ConfigLike) -> StudyConfig:
    """A StudyConfig from a path (str or Path), a dict shaped like the YAML, or as given."""
    if config is None:
        return StudyConfig()
    if isinstance(config, StudyConfig):
        return config
    if isinstance(config, Mapping):
        return config_from_mapping(dict(config))
    return load_config(Path(config))


def run_study(
    data: str | Path,
    config: ConfigLike = None,
    out: str | Path | None = None,
    *,
    show_ids: bool = False,
    pdf: bool = False,
    force: bool = False,
    pseudonym_key: str | Path | None = None,
) -> StudyResult:
    """Validate `data`, select the cohort, compute every analysis; write `out` if given.

    `data` is a study folder of CSV files or an .xlsx workbook; `config` a YAML path, a
    dict or a StudyConfig (None: the seed protocol's defaults). Raises DataValidationError
    (with every problem) on bad data, ConfigError on a bad configuration, and
    OutputFolderError when `out` cannot be used (see `rechallenge run --help`).
    """
    from rechallenge import pipeline

    settings = as_config(config)
    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(f"{data}: no such file or folder")
    if out is None:
        if pseudonym_key is not None:
            raise RechallengeError("a pseudonym key is written only with an output folder")
        study = pipeline.load_validated(data, settings)
        pipeline.check_study_names(study, settings)
        run = pipeline.analyse_study(study, settings, show_ids=show_ids)
        results = pipeline.build_results(run, settings, show_ids)
        return StudyResult(results, settings, dict(run.datasets), None)
    results, run, final = pipeline.run_and_write(
        data,
        Path(out),
        settings,
        show_ids=show_ids,
        pdf=pdf,
        force=force,
        pseudonym_key=Path(pseudonym_key) if pseudonym_key is not None else None,
    )
    return StudyResult(results, settings, dict(run.datasets), final)


@dataclass(frozen=True)
class Section:
    """One section of the results: its numbers, its published table and a tidy frame.

    `data` is the section of results.json (read-only); `table` the table as printed in
    the report (text cells, None when the section has no table); `frame` the numbers as
    a tidy DataFrame (one row per estimate).
    """

    name: str
    data: Any
    table: pd.DataFrame | None
    frame: pd.DataFrame

    def _repr_html_(self) -> str:
        shown = self.table if self.table is not None else self.frame
        title = f"<h4>{html.escape(self.name)}</h4>"
        return title + shown.to_html(index=False, na_rep="", escape=True)

    def __repr__(self) -> str:
        return f"Section({self.name!r}, {len(self.frame)} row(s))"


@dataclass(frozen=True)
class StudyResult:
    """Everything a run produced, read-only: sections as attributes, tables as DataFrames.

    Attributes: `cohort`, `responses`, `resistance`, `baseline`, `efficacy`, `km`, `logrank`, `cox`,
    `adverse_events` (None without AE data) are Sections; `results` is the whole
    results.json as a read-only mapping; `datasets` the ADaM-style frames (ADSL, ADRS,
    ADTTE, ADAE); `out` the output folder (None when nothing was written).
    """

    _results: dict[str, Any] = field(repr=False)
    config: StudyConfig = field(repr=False)
    _datasets: dict[str, pd.DataFrame] = field(repr=False)
    out: Path | None = None

    # ----------------------------------------------------------------- whole results
    @property
    def results(self) -> Mapping[str, Any]:
        """results.json as a read-only mapping (the nested values are the run's own)."""
        return MappingProxyType(self._results)

    @property
    def datasets(self) -> Mapping[str, pd.DataFrame]:
        """The analysis datasets by name (copies: editing one changes nothing else)."""
        return MappingProxyType({k: v.copy() for k, v in self._datasets.items()})

    @property
    def report(self) -> Path | None:
        """Path of report.html when the run wrote an output folder."""
        return None if self.out is None else self.out / "report.html"

    @property
    def warnings(self) -> tuple[str, ...]:
        """Data-quality warnings of the run, one line each (no IDs unless show_ids)."""
        return tuple(f"[{w['code']}] {w['message']}" for w in self._results.get("warnings", []))

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every published table by id (``table1_resistance``, ...), as printed."""
        from rechallenge.tables.study import build_tables

        return {tid: table_frame(t) for tid, t in build_tables(self._results).items()}

    # ----------------------------------------------------------------- sections
    def _table(self, table_id: str) -> pd.DataFrame | None:
        return self.tables.get(table_id)

    @property
    def cohort(self) -> Section:
        """Attrition per criterion (frame) and the attrition table."""
        cohort = self._results["cohort"]
        return Section(
            "cohort", cohort, self._table("table_attrition"), pd.DataFrame(cohort["attrition"])
        )

    @property
    def responses(self) -> Section:
        """Best overall response of each screened patient's courses (RECIST 1.1 or iRECIST
        from the lesion rows, else the investigator's), with its source; one row per course.
        """
        patients = self._results["cohort"]["patients"]
        rows = [
            {
                "patient": p["patient_id"],
                "included": p["included"],
                "course": course,
                "bor": (r or {}).get("bor"),
                "source": (r or {}).get("source"),
            }
            for p in patients
            for course, r in (p.get("responses") or {}).items()
        ]
        return Section("responses", patients, None, pd.DataFrame(rows))

    @property
    def resistance(self) -> Section:
        """The resistance definition applied (Table 1)."""
        data = self._results.get("resistance") or {}
        frame = pd.DataFrame(data.get("criteria") or [])
        return Section("resistance", data, self._table("table1_resistance"), frame)

    @property
    def baseline(self) -> Section:
        """Baseline characteristics (Table 3); frame: one row per variable or level."""
        data = self._results.get("baseline") or {}
        frame = pd.DataFrame(data.get("rows") or [])
        return Section("baseline", data, self._table("table3_baseline"), frame)

    @property
    def efficacy(self) -> Section:
        """Best overall response, ORR and DCR per course (Table 2)."""
        data = self._results["efficacy"]
        rows = []
        for course, eff in data.items():
            if not eff:
                continue
            for measure in ("orr", "dcr"):
                est = eff.get(measure) or {}
                rows.append(
                    {
                        "course": course,
                        "measure": measure.upper(),
                        "n": eff.get("n"),
                        "count": est.get("count"),
                        "estimate": est.get("estimate"),
                        "lower": est.get("lower"),
                        "upper": est.get("upper"),
                        "method": est.get("method"),
                    }
                )
        return Section("efficacy", data, self._table("table2_efficacy"), pd.DataFrame(rows))

    @property
    def km(self) -> Section:
        """Kaplan-Meier medians (months, 95% CI) per endpoint and stratum."""
        data = self._results["km"]
        rows = []
        for endpoint, block in data.items():
            for stratum, curve in (block or {}).items():
                if isinstance(curve, Mapping):
                    rows.append(
                        {
                            "endpoint": endpoint,
                            "stratum": stratum,
                            **{k: curve.get(k) for k in KM_COLUMNS},
                        }
                    )
        return Section("km", data, None, pd.DataFrame(rows))

    @property
    def logrank(self) -> Section:
        """Log-rank tests per endpoint and subgroup."""
        data = self._results["logrank"]
        rows = [
            {"endpoint": endpoint, "subgroup": sub, **{k: t.get(k) for k in LOGRANK_COLUMNS}}
            for endpoint, tests in data.items()
            for sub, t in (tests or {}).items()
            if isinstance(t, Mapping)
        ]
        return Section("logrank", data, None, pd.DataFrame(rows))

    @property
    def cox(self) -> Section:
        """Cox models per endpoint: one row per term (hazard ratio, 95% CI, p)."""
        data = self._results["cox"]
        rows = [{"endpoint": endpoint, **row} for endpoint, block in data.items() for row in block]
        return Section("cox", data, self._table("table_cox_pfsr"), pd.DataFrame(rows))

    @property
    def adverse_events(self) -> Section | None:
        """Worst grade per term and course (Table 4); None without AE or lab data."""
        data = self._results.get("adverse_events")
        if not data:
            return None
        rows = [
            {"course": course, **row}
            for course, block in data.items()
            if course != "n" and isinstance(block, list)
            for row in block
        ]
        return Section(
            "adverse_events", data, self._table("table4_adverse_events"), pd.DataFrame(rows)
        )

    # ----------------------------------------------------------------- figures
    @functools.cached_property
    def figure_names(self) -> tuple[str, ...]:
        """Stems of the figures these results allow, in report order."""
        from rechallenge.figures.render import FIGURES

        return tuple(spec.stem for spec in FIGURES if spec.build(self._results) is not None)

    def figure(self, name: str) -> Figure:
        """One figure as a matplotlib Figure (``figure1_km_pfs``, ``flow``, ...)."""
        from rechallenge.errors import unknown_name
        from rechallenge.figures.render import FIGURES

        specs = {spec.stem: spec for spec in FIGURES}
        if name not in specs:
            raise KeyError(unknown_name("figure", name, specs))
        fig = specs[name].build(self._results)
        if fig is None:
            raise RechallengeError(f"figure {name!r} cannot be drawn from these results")
        return fig

    def figures(self) -> dict[str, Figure]:
        """Every figure the results allow, by stem."""
        from rechallenge.figures.render import build_figures

        return build_figures(self._results)

    # ----------------------------------------------------------------- display
    def summary(self) -> pd.DataFrame:
        """The run's summary (as printed at the end of `rechallenge run`), two columns."""
        from rechallenge.pipeline import summary_rows

        return pd.DataFrame(summary_rows(self._results), columns=["item", "value"])

    def __repr__(self) -> str:
        cohort = self._results["cohort"]
        where = f", out={str(self.out)!r}" if self.out is not None else ""
        return f"StudyResult(screened={cohort['screened']}, included={cohort['included']}{where})"

    def _repr_html_(self) -> str:
        title = html.escape(str(self._results.get("study", {}).get("title", "Study")))
        parts = [f"<h3>{title}</h3>", self.summary().to_html(index=False, escape=True)]
        sections = (
            "cohort, responses, resistance, baseline, efficacy, km, logrank, cox, adverse_events"
        )
        parts.append(f"<p>Sections: {sections}; figures: {', '.join(self.figure_names)}.</p>")
        if self.out is not None:
            parts.append(f"<p>Report: {html.escape(str(self.report))}</p>")
        return "\n".join(parts)


KM_COLUMNS = ("label", "n", "events", "median_months", "lower", "upper", "conf_type")
LOGRANK_COLUMNS = ("groups", "n", "chi2", "df", "p", "test", "n_missing")


def table_frame(table: Any) -> pd.DataFrame:
    """A published table (`rechallenge.tables.model.Table`) as a DataFrame of its texts.

    Columns carry their spanning header (``Rechallenge: Any grade``), as in the CSV export;
    a group row keeps its label in the first column with the other cells empty.
    """
    return pd.DataFrame([list(row.texts) for row in table.rows], columns=table.flat_columns())
