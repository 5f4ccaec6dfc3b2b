"""Forest plot of Cox hazard ratios with 95% CIs, univariable and multivariable blocks.

The plot lists exactly the rows of the Cox table: `forest_rows` reads
``results["cox"][endpoint]`` and returns, per model, one row per term in the table's order.

- Results of schema 1.1 list one row per term already (each factor's reference level first
  as its own row, ``is_reference``); they are taken as they are.
- Older results (rows without ``is_reference``) may list a monotone ordinary-Cox row and
  the Firth row of the same term; the Firth row replaces the ordinary one. An ordinary row
  without a confidence limit or with a diverged HR (outside 1e-6 to 1e6) has no estimate.

Reference rows read "Reference" and carry no marker; terms without an estimate read "not
estimable" and carry no marker. Firth-penalised estimates are drawn hollow and marked †,
and their p values are penalised likelihood-ratio p values (not Wald). A factor with three
or more levels shows its global likelihood-ratio p on the variable's heading row.
Estimates sit on a log axis with a reference line at 1; intervals running past the axis end
in an arrow. Column positions follow the measured width of the longest label.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, NullFormatter
from matplotlib.transforms import Transform, blended_transform_factory

from rechallenge.figures.settings import DOUBLE_COLUMN_IN
from rechallenge.figures.style import (
    current_style,
    fmt_p,
    fmt_ratio,
    font_size,
    gid,
    journal_style,
    lower_first,
    palette,
)
from rechallenge.labels import Labels, labels_from_results

MODEL_ORDER: Final[tuple[str, ...]] = ("univariable", "multivariable")
MODEL_TITLES: Final[dict[str, str]] = {
    "univariable": "Univariable",
    "multivariable": "Multivariable",
}
MODEL_MARKERS: Final[dict[str, str]] = {"univariable": "s", "multivariable": "D"}
CANDIDATE_TICKS: Final[tuple[float, ...]] = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100)
X_FLOOR: Final[float] = 0.05
X_CEIL: Final[float] = 100.0
FIRTH_MARK: Final[str] = "†"
WIDE_TICKS: Final[tuple[float, ...]] = (0.01, 0.1, 1, 10, 100)
MINOR_TICKS: Final[tuple[float, ...]] = (0.05, 0.2, 0.5, 2, 5, 20, 50)
REFERENCE_TEXT: Final[str] = "Reference"
NOT_ESTIMABLE_TEXT: Final[str] = "not estimable"
CONTINUOUS_REFERENCES: Final[frozenset[str]] = frozenset({"", "per unit increase", "per unit"})
#: Column widths in inches right of the label column: n, events, gap, HR (95% CI), p.
COLUMN_IN: Final[dict[str, float]] = {"n": 0.3, "events": 0.5, "gap": 0.15, "hr": 1.25, "p": 0.45}
MIN_PLOT_IN: Final[float] = 1.4
RIGHT_MARGIN_IN: Final[float] = 0.05
INDENT: Final[str] = "    "

#: Older results: an ordinary-Cox HR outside this range is a diverged (monotone) estimate.
DIVERGED: Final[tuple[float, float]] = (1e-6, 1e6)

RowKind = Literal["reference", "estimate", "not_estimable"]


@dataclass(frozen=True)
class ForestRow:
    """One line of the forest plot, the same term as one row of the Cox table."""

    term: str
    variable: str
    model: str
    kind: RowKind
    label: str
    variable_label: str
    level_label: str
    n: Any
    events: Any
    hr: float | None
    lower: float | None
    upper: float | None
    p: float | None
    firth: bool
    test: str
    global_p: float | None
    ties: str | None
    continuous: bool
    """A per-unit term (no reference level): drawn on one line with its full label."""
    global_test: str | None = None
    """The test behind ``global_p`` (``LR`` or ``firth_lr``)."""


def _num(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def p_test(row: Mapping[str, Any]) -> str:
    """The test behind a row's p: ``firth_lr`` for every Firth row (older results said Wald)."""
    return "firth_lr" if row.get("firth") else str(row.get("test") or "Wald")


def test_words(test: str) -> str:
    """The test in words, as a caption or footnote names it."""
    return {
        "firth_lr": "penalised likelihood-ratio test",
        "Wald": "Wald test",
        "LR": "likelihood-ratio test",
    }.get(test, test)


def _kind(row: Mapping[str, Any], new_format: bool) -> RowKind:
    """Reference, estimate, or not estimable (a monotone ordinary fit has no estimate)."""
    if row.get("is_reference"):
        return "reference"
    hr, lo, hi = (_num(row.get(k)) for k in ("hr", "lower", "upper"))
    if row.get("estimable") is False or hr is None or hr <= 0:
        return "not_estimable"
    diverged = not DIVERGED[0] < hr < DIVERGED[1]
    if not new_format and (lo is None or hi is None or diverged):
        return "not_estimable"
    return "estimate"


def _labels_for(row: Mapping[str, Any], labels: Labels, new_format: bool) -> tuple[str, str, str]:
    """(full label, variable label, level label) in words, never raw codes."""
    variable = str(row.get("variable") or row.get("term") or "")
    level = row.get("level")
    reference = str(row.get("reference") or "")
    var_label = str(row.get("variable_label") or labels.variable(variable))
    level_label = str(row.get("level_label") or labels.level(variable, level or ""))
    if new_format and row.get("label"):
        return str(row["label"]), var_label, level_label
    if not new_format and reference not in CONTINUOUS_REFERENCES:
        level_label = f"{level_label} vs {lower_first(labels.level(variable, reference))}"
    elif not new_format:
        level_label = lower_first(level_label)
    return f"{var_label}: {level_label}", var_label, level_label


def _dedupe_old(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Older results: the Firth row of a term replaces its ordinary row (one per term)."""
    firth_terms = {r.get("term") for r in rows if r.get("firth")}
    out: list[Mapping[str, Any]] = []
    seen: set[Any] = set()
    for row in rows:
        term = row.get("term")
        if term in firth_terms and not row.get("firth"):
            continue
        if term in seen:
            continue
        seen.add(term)
        out.append(row)
    return out


def rows_for_model(
    rows: Sequence[Mapping[str, Any]], model: str, labels: Labels | None = None
) -> list[ForestRow]:
    """The forest rows of one model from a list of Cox rows (either results format)."""
    labels = labels or Labels()
    chosen = [r for r in rows if str(r.get("model", "univariable")) == model]
    new_format = any("is_reference" in r for r in rows)
    if not new_format:
        chosen = _dedupe_old(chosen)
    out: list[ForestRow] = []
    for row in chosen:
        kind = _kind(row, new_format)
        label, var_label, level_label = _labels_for(row, labels, new_format)
        estimate = kind == "estimate"
        out.append(
            ForestRow(
                term=str(row.get("term")),
                variable=str(row.get("variable") or row.get("term")),
                model=model,
                kind=kind,
                label=label,
                variable_label=var_label,
                level_label=level_label,
                n=row.get("n"),
                events=row.get("events"),
                hr=_num(row.get("hr")) if estimate else None,
                lower=_num(row.get("lower")) if estimate else None,
                upper=_num(row.get("upper")) if estimate else None,
                p=_num(row.get("p")) if estimate else None,
                firth=bool(row.get("firth")) and estimate,
                test=p_test(row),
                global_p=_num(row.get("global_p")),
                ties=str(row["ties"]) if row.get("ties") else None,
                continuous=str(row.get("reference") or "") in CONTINUOUS_REFERENCES,
                global_test=str(row["global_test"]) if row.get("global_test") else None,
            )
        )
    return out


def forest_rows(results: Mapping[str, Any], endpoint: str, model: str) -> list[ForestRow]:
    """The rows the forest plot draws for ``endpoint`` and ``model``, in the table's order."""
    rows = (results.get("cox") or {}).get(endpoint) or []
    return rows_for_model(rows, model, labels_from_results(results))


def hr_words(row: Mapping[str, Any], labels: Labels, sep: str = " ") -> str:
    """A Cox row in words: ``Hazard ratio (Cox), 2 vs 0–1: 6.84 (95% CI …); Wald test p = …``.

    ``sep`` goes between the contrast and the numbers (a newline for a narrow annotation).
    """
    variable = str(row.get("variable") or "")
    level = labels.level(variable, row.get("level") or "")
    reference = str(row.get("reference") or "")
    contrast = level
    if reference not in CONTINUOUS_REFERENCES:
        contrast = f"{level} vs {lower_first(labels.level(variable, reference))}"
    model = "Cox, Firth penalised" if row.get("firth") else "Cox"
    ratio = fmt_ratio(_num(row.get("hr")), _num(row.get("lower")), _num(row.get("upper")))
    p = f"{test_words(p_test(row))} {fmt_p(row.get('p'))}"
    return f"Hazard ratio ({model}), {contrast}:{sep}{ratio}; {p}"


# --- layout ------------------------------------------------------------------------------

Line = tuple[str, ForestRow | None, str]
"""(kind, row, text): kind is 'model', 'variable', 'row' or 'more' (a wrapped label's rest)."""


def _marked(row: ForestRow, text: str) -> str:
    """A row label with the Firth mark at its end (so a wrapped label ends with it)."""
    return f"{text}{FIRTH_MARK}" if row.firth else text


def _room_for_mark(text: str) -> str:
    """A label as measured: every label keeps room for a Firth mark, so columns align."""
    return text if text.endswith(FIRTH_MARK) else f"{text}{FIRTH_MARK}"


def _lines(blocks: Sequence[tuple[str, list[ForestRow]]]) -> list[Line]:
    """Display lines top to bottom: model headings, variable headings, indented rows."""
    lines: list[Line] = []
    for model, rows in blocks:
        lines.append(("model", None, MODEL_TITLES.get(model, model.capitalize())))
        i = 0
        while i < len(rows):
            group = [rows[i]]
            while i + len(group) < len(rows) and rows[i + len(group)].variable == rows[i].variable:
                group.append(rows[i + len(group)])
            if len(group) == 1 and group[0].kind != "reference" and group[0].continuous:
                lines.append(("row", group[0], _marked(group[0], group[0].label)))
            else:
                head = next((r for r in group if r.global_p is not None), group[0])
                lines.append(("variable", head, head.variable_label))
                lines += [("row", r, _marked(r, INDENT + r.level_label)) for r in group]
            i += len(group)
    return lines


def _limits(rows: Sequence[ForestRow]) -> tuple[float, float]:
    """Log-axis limits covering the estimates and most of the CIs, within [0.05, 100]."""
    vals = [v for r in rows for v in (r.hr, r.lower, r.upper) if v is not None and v > 0]
    vals = vals or [1.0]
    low = max(X_FLOOR, min(min(vals), 1.0) / 1.3)
    high = min(X_CEIL, max(max(vals), 1.0) * 1.3)
    low = max([t for t in CANDIDATE_TICKS if t <= low] or [X_FLOOR])
    high = min([t for t in CANDIDATE_TICKS if t >= high] or [X_CEIL])
    return low, high


def _ticks(lim: tuple[float, float]) -> list[float]:
    """Labelled tick positions: fewer when the axis spans more than two decades."""
    wide = math.log10(lim[1] / lim[0]) > 2.0
    return [t for t in (WIDE_TICKS if wide else CANDIDATE_TICKS) if lim[0] <= t <= lim[1]]


def _interval(ax: Axes, y: float, row: ForestRow, lim: tuple[float, float]) -> None:
    """CI line (arrowed when clipped) and point estimate for one estimated row."""
    if row.kind != "estimate" or row.hr is None:
        return
    colour = palette().role("multivariable" if row.model == "multivariable" else "univariable")
    if row.lower is not None and row.upper is not None:
        left, right = max(row.lower, lim[0]), min(row.upper, lim[1])
        ax.plot([left, right], [y, y], color=colour, linewidth=1.1, solid_capstyle="butt")
        for end, clipped, arrow in (
            (left, row.lower < lim[0], "<"),
            (right, row.upper > lim[1], ">"),
        ):
            if clipped:
                ax.plot([end], [y], marker=arrow, color=colour, markersize=4)
    ax.plot(
        [min(max(row.hr, lim[0]), lim[1])],
        [y],
        linestyle="none",
        marker=MODEL_MARKERS.get(row.model, "s"),
        markersize=5,
        markerfacecolor="white" if row.firth else colour,
        markeredgecolor=colour,
        markeredgewidth=1.1,
        zorder=3,
        gid=gid("forest-marker", row.model, row.term),
    )


def _p_text(p: float | None) -> str:
    return fmt_p(p).removeprefix("p = ").replace("p ", "")


def _row_cells(row: ForestRow) -> dict[str, str]:
    """The text of the n, events, HR and p columns for one row."""
    if row.kind == "reference":
        ratio, p = REFERENCE_TEXT, ""
    elif row.kind == "not_estimable":
        ratio, p = NOT_ESTIMABLE_TEXT, ""
    else:
        ratio = f"{_two(row.hr)} ({_two(row.lower)}–{_two(row.upper)})"
        p = _p_text(row.p)
    return {
        "n": "" if row.n is None else str(row.n),
        "events": "" if row.events is None else str(row.events),
        "hr": ratio,
        "p": p,
    }


def _two(x: float | None) -> str:
    return "NA" if x is None else f"{x:.2f}"


@dataclass(frozen=True)
class _Columns:
    """x positions (figure fraction) of the shown text columns and of the plot area."""

    label: float
    plot_left: float
    plot_width: float
    x: Mapping[str, float]
    """Column name (``n``, ``events``, ``hr``, ``p``) → x; hidden columns are absent."""

    @property
    def right(self) -> float:
        """The right end of the content, as a figure fraction."""
        return max([*self.x.values(), self.plot_left + self.plot_width])


#: Text columns shown, widest layout first: a narrow figure drops the counts (they move
#: to the model heading), then the numbers (the Cox table gives them).
COLUMN_SETS: Final[tuple[tuple[str, ...], ...]] = (("n", "events", "hr", "p"), ("hr", "p"), ())


def _columns(width: float, label_in: float, shown: Sequence[str]) -> _Columns:
    """Columns from the figure width, the longest label and the columns shown, in inches."""
    c = COLUMN_IN
    x: dict[str, float] = {}
    pos = 0.05 + label_in + 0.1
    for col in ("n", "events"):
        if col in shown:
            x[col] = (pos + c[col] / 2) / width
            pos += c[col]
    plot_left = pos + c["gap"]
    right_cols = sum(c[k] for k in ("hr", "p") if k in shown)
    right_cols += c["gap"] if right_cols else 0.05
    plot_w = max(MIN_PLOT_IN, width - plot_left - right_cols - RIGHT_MARGIN_IN)
    hr_centre = plot_left + plot_w + c["gap"] + c["hr"] / 2
    if "hr" in shown:
        x["hr"] = hr_centre / width
    if "p" in shown:
        x["p"] = (hr_centre + c["hr"] / 2 + c["p"]) / width
    return _Columns(0.05 / width, plot_left / width, plot_w / width, x)


def _fit_columns(width: float, label_in: float) -> tuple[_Columns, float]:
    """The widest column set that fits ``width``; else the narrowest, widened to fit."""
    for shown in COLUMN_SETS:
        cols = _columns(width, label_in, shown)
        if cols.right * width + RIGHT_MARGIN_IN <= width + 1e-6:
            return cols, width
    needed = cols.right * width + RIGHT_MARGIN_IN
    return _columns(needed, label_in, COLUMN_SETS[-1]), needed


def _label_width(fig: Figure, texts: Sequence[str], bold: Sequence[bool]) -> float:
    """Width in inches of the longest label as it will be drawn."""
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    widest = 0.0
    for text, b in zip(texts, bold, strict=True):
        t = Text(0, 0, text, fontweight="bold" if b else "normal", figure=fig)
        widest = max(widest, t.get_window_extent(renderer).width / fig.dpi)
    return widest


def _headers(ax: Axes, tr: Transform, cols: _Columns) -> None:
    heads = {
        "n": ("n", "center"),
        "events": ("Events", "center"),
        "hr": ("HR (95% CI)", "center"),
        "p": ("p", "right"),
    }
    ax.text(cols.label, -1.2, "Variable", transform=tr, ha="left", va="center", fontweight="bold")
    for col, x in cols.x.items():
        text, ha = heads[col]
        ax.text(x, -1.2, text, transform=tr, ha=ha, va="center", fontweight="bold")


def _draw_line(
    ax: Axes, tr: Transform, cols: _Columns, y: int, line: Line, lim: tuple[float, float]
) -> None:
    """One display line: a heading (with a global p) or a row with its interval."""
    kind, row, text = line
    if kind != "row" or row is None:
        weight = "bold" if kind == "model" else "normal"
        ax.text(cols.label, y, text, transform=tr, ha="left", va="center", fontweight=weight)
        if kind == "variable" and row is not None and row.global_p is not None and "p" in cols.x:
            p = f"{_p_text(row.global_p)}‡"
            ax.text(cols.x["p"], y, p, transform=tr, ha="right", va="center")
        return
    ax.text(
        cols.label,
        y,
        text,
        transform=tr,
        ha="left",
        va="center",
        gid=f"forest-label-{y}",
    )
    for col, value in _row_cells(row).items():
        if col not in cols.x:
            continue
        ha = "right" if col == "p" else "center"
        ax.text(cols.x[col], y, value, transform=tr, ha=ha, va="center", gid=f"forest-{col}-{y}")
    _interval(ax, y, row, lim)


def figure_forest(
    rows: Sequence[Mapping[str, Any]] | None,
    *,
    endpoint: str = "PFSR",
    labels: Labels | None = None,
) -> Figure | None:
    """Figure 6: Cox hazard ratios for ``endpoint``; None when there are no rows."""
    if not rows:
        return None
    models = [m for m in MODEL_ORDER if any(r.get("model") == m for r in rows)]
    models += sorted({str(r.get("model")) for r in rows} - set(models))
    blocks = [(m, rows_for_model(rows, m, labels)) for m in models]
    blocks = [(m, b) for m, b in blocks if b]
    lines = _lines(blocks)
    every = [r for _, b in blocks for r in b]
    lim = _limits(every)
    with journal_style():
        width = current_style().width_in(DOUBLE_COLUMN_IN)
        label_in = _label_width(
            Figure(), [_room_for_mark(t) for _, _, t in lines], [k == "model" for k, _, _ in lines]
        )
        cols, fitted = _fit_columns(width, label_in)
        if fitted > width:  # even without text columns: wrap the longest labels
            lines = _wrap_labels(lines, width - (fitted - label_in))
            label_in = _label_width(
                Figure(),
                [_room_for_mark(t) for _, _, t in lines],
                [k == "model" for k, _, _ in lines],
            )
            cols, fitted = _fit_columns(width, label_in)
        width = fitted
        if "n" not in cols.x:
            lines = _counts_in_headings(lines, blocks)
        notes = footnotes(every, labels or Labels())
        if "hr" not in cols.x:
            notes = [n for n in notes if not n.startswith(("p, ", "‡"))]
            notes.append("Hazard ratios, 95% CIs and p values: see the Cox regression table.")
        chars = int(width * 72 / (font_size(-1.5) * 0.56))
        notes = [w for n in notes for w in textwrap.wrap(n, chars)]
        row_h = font_size() / 72 * 1.9
        note_h = len(notes) * font_size(-1.5) / 72 * 1.3
        xlabel = _xlabel(endpoint, cols.plot_width * width)
        bottom_in = 0.5 + note_h + xlabel.count("\n") * font_size() / 72 * 1.2
        height = bottom_in + 0.1 + row_h * (len(lines) + 2)
        fig = Figure(figsize=(width, height))
        bottom = bottom_in / height
        ax = fig.add_axes((cols.plot_left, bottom, cols.plot_width, 1 - bottom - 0.1 / height))
        tr = blended_transform_factory(fig.transFigure, ax.transData)
        _headers(ax, tr, cols)
        for y, line in enumerate(lines):
            _draw_line(ax, tr, cols, y, line, lim)
        ax.axvline(1.0, color=palette().role("muted"), linewidth=0.7, linestyle=(0, (3, 2)))
        _axis(ax, lim, len(lines), xlabel)
        _footnote(fig, notes, cols)
    return fig


def _wrap_labels(lines: Sequence[Line], max_in: float) -> list[Line]:
    """Labels wider than ``max_in`` inches broken over two or more lines (the rest as 'more')."""
    out: list[Line] = []
    scratch = Figure()
    for kind, row, text in lines:
        width = _label_width(scratch, [_room_for_mark(text)], [kind == "model"])
        if kind == "model" or width <= max_in:
            out.append((kind, row, text))
            continue
        indent = text[: len(text) - len(text.lstrip())]
        chars = max(12, int(len(text) * max_in / width) - 1)
        parts = textwrap.wrap(text.strip(), chars - len(indent), break_on_hyphens=False)
        out.append((kind, row, indent + parts[0]))
        out += [("more", None, f"{indent}  {part}") for part in parts[1:]]
    return out


def _counts_in_headings(
    lines: Sequence[Line], blocks: Sequence[tuple[str, list[ForestRow]]]
) -> list[Line]:
    """Model headings with ``(n = …, events = …)`` when the count columns are hidden."""
    counts = {}
    for model, rows in blocks:
        pairs = {(r.n, r.events) for r in rows}
        if len(pairs) == 1:
            n, events = pairs.pop()
            counts[MODEL_TITLES.get(model, model.capitalize())] = f" (n = {n}, events = {events})"
    return [(k, r, t + counts.get(t, "")) if k == "model" else (k, r, t) for k, r, t in lines]


def _xlabel(endpoint: str, plot_in: float) -> str:
    """The axis title, on two lines when one would run past the plot (a narrow figure)."""
    text = f"Hazard ratio for {endpoint} (log scale)"
    if _label_width(Figure(), [text], [False]) <= plot_in:
        return text
    return f"Hazard ratio for {endpoint}\n(log scale)"


def _axis(ax: Axes, lim: tuple[float, float], n_lines: int, xlabel: str) -> None:
    """Log x axis with readable ticks; rows top to bottom."""
    ax.set_xscale("log")
    ax.set_xlim(*lim)
    ticks = _ticks(lim)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    minor = [t for t in MINOR_TICKS if lim[0] <= t <= lim[1] and t not in ticks]
    ax.xaxis.set_minor_locator(FixedLocator(minor))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_ylim(n_lines - 0.5, -1.7)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(xlabel)


def footnotes(rows: Sequence[ForestRow], labels: Labels) -> list[str]:
    """The footnote lines: markers, tests behind the p values, Firth and ties."""
    notes = ["■ univariable, ◆ multivariable Cox model; lines, 95% confidence intervals."]
    tests = sorted({test_words(r.test) for r in rows if r.kind == "estimate" and not r.firth})
    if tests:
        notes.append(f"p, {' / '.join(tests)}.")
    if any(r.firth for r in rows):
        notes.append(
            f"{FIRTH_MARK} Firth penalised-likelihood estimate (hollow marker; the ordinary fit "
            "is monotone): 95% CI by profile penalised likelihood, p by penalised "
            "likelihood-ratio test."
        )
    global_tests = sorted(
        {test_words(r.global_test or "LR") for r in rows if r.global_p is not None}
    )
    if global_tests:
        notes.append(f"‡ Global p of the variable, {' / '.join(global_tests)}.")
    ties = _ties_note(rows, labels)
    if ties:
        notes.append(ties)
    return notes


def _ties_note(rows: Sequence[ForestRow], labels: Labels) -> str | None:
    """How tied event times were handled, naming the Firth fits apart when theirs differs."""
    plain = sorted({r.ties for r in rows if r.ties and r.kind == "estimate" and not r.firth})
    firth = sorted({r.ties for r in rows if r.ties and r.firth})
    if not plain and not firth:
        return None
    if not plain or not firth or plain == firth:
        ties = sorted({*plain, *firth})
        return "Ties: " + "; ".join(labels.method("cox_ties", t) for t in ties) + "."
    words = "; ".join(labels.method("cox_ties", t) for t in plain)
    firth_words = "; ".join(labels.method("cox_ties", t) for t in firth)
    return f"Ties: {words}; for the Firth estimates ({FIRTH_MARK}), {firth_words}."


def _footnote(fig: Figure, notes: Sequence[str], cols: _Columns) -> None:
    """The footnotes under the axis, one per line."""
    fig.text(
        cols.label,
        0.01,
        "\n".join(notes),
        ha="left",
        va="bottom",
        fontsize=font_size(-1.5),
        linespacing=1.3,
    )
