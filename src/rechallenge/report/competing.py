"""The report's Competing risks subsection: progression with death as a competing event.

Placed at the end of the Results subsections (before "Further results") when the results
hold a ``competing_risks`` section (``statistics.competing_risks`` was configured). One
paragraph reads ``results["competing_risks"]``: patients and events per cause, the
cumulative incidence of each cause at the configured times with its 95% CI, and Gray's test
per subgroup; then the table and the figures (the two by subgroup side by side in the HTML
report, `BY_SUBGROUP_PAIR`). A cause without events is said in words
(with no deaths without progression the cumulative incidence of progression is one minus
the Kaplan–Meier estimate), and a section with no events at all says so instead of quoting
estimates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from rechallenge.labels import Labels
from rechallenge.report.text import (
    ci_pct,
    endpoint_short,
    join_words,
    p_text,
    pct,
    variable_words,
)
from rechallenge.tables.competing import COMPETING_TABLE_ID

if TYPE_CHECKING:
    from rechallenge.report.document import Block, Exhibits

__all__ = [
    "BY_SUBGROUP_PAIR",
    "COMPETING_FIGURES",
    "competing_blocks",
    "competing_paragraph",
    "with_competing",
]

COMPETING_FIGURES: Final[dict[str, str]] = {
    "figure_cif": "Cumulative incidence of progression and of death without progression "
    "(competing event), Aalen–Johansen estimates; numbers at risk below the plot.",
    "figure_cif_ecog": "Cumulative incidence of progression by ECOG performance status, "
    "death without progression as a competing event; p, Gray's test; numbers at risk below "
    "the plot.",
    "figure_cif_pdl1": "Cumulative incidence of progression by PD-L1 expression, death "
    "without progression as a competing event; p, Gray's test; numbers at risk below the "
    "plot.",
}
#: The figures by subgroup, shown side by side in the HTML report.
BY_SUBGROUP_PAIR: Final = ("figure_cif_ecog", "figure_cif_pdl1")
ANCHOR: Final = "results-competing"


def _at_words(curve: Mapping[str, Any]) -> str:
    """``61.5% (95% CI 28.5–82.9%) at 6 months and …``; not estimable times named."""
    parts = []
    for r in curve.get("at_times") or []:
        t = f"{float(r['time_months']):g} months"
        if not r.get("estimable"):
            parts.append(f"not estimable at {t}")
        elif r.get("lower") is None:
            parts.append(f"{pct(r['cif'])} at {t}")
        else:
            parts.append(f"{pct(r['cif'])} ({ci_pct(r['lower'], r['upper'])}) at {t}")
    return join_words(parts)


def _gray_words(section: Mapping[str, Any], labels: Labels) -> str | None:
    """One sentence listing Gray's test of progression (and death) per subgroup."""
    parts = []
    for variable, block in (section.get("subgroups") or {}).items():
        tests = {g["cause"]: g for g in block.get("gray") or []}
        name = variable_words(labels, variable)
        if not tests:
            parts.append(f"by {name}, not done (one level with data)")
            continue
        words = []
        for cause, what in (("progression", "progression"), ("death", "death")):
            g = tests.get(cause) or {}
            words.append(f"{p_text(g['p'])} for {what}" if g.get("p") is not None else "")
        shown = [w for w in words if w]
        text = join_words(shown) if shown else "not done (no events)"
        parts.append(f"by {name}, {text}")
    if not parts:
        return None
    listed = "; ".join(parts)
    return f"Gray's test compared the cumulative incidence between subgroup levels: {listed}."


def _count(n: int, one: str, many: str) -> str:
    return f"no {many}" if n == 0 else f"{n} {one if n == 1 else many}"


DEFAULT_REFS: Final = ("{table:" + COMPETING_TABLE_ID + "}", "{figure:figure_cif}")


def competing_paragraph(
    section: Mapping[str, Any], labels: Labels, refs: tuple[str, ...] = DEFAULT_REFS
) -> str:
    """The subsection's prose; ``refs`` are the keys of the exhibits it points to."""
    endpoint = endpoint_short(labels, str(section.get("endpoint", "PFSR")))
    overall = section.get("overall") or {}
    events = overall.get("events") or {}
    prog, death = int(events.get("progression", 0)), int(events.get("death", 0))
    text = (
        f"With death without progression as a competing event for progression ({endpoint}), "
        f"the {overall.get('n', section.get('n', 0))} patients had "
        f"{_count(prog, 'progression', 'progressions')} and "
        f"{_count(death, 'death', 'deaths')} without progression, and "
        f"{overall.get('n_censored', 0)} were censored"
        + (f" ({'; '.join(refs)})." if refs else ".")
    )
    if not prog and not death:
        return text + " With no events of either cause, no cumulative incidence is estimated."
    curves = overall.get("curves") or {}
    text += (
        f" The cumulative incidence of progression was {_at_words(curves.get('progression') or {})}"
    )
    if death:
        text += f", and that of death without progression {_at_words(curves.get('death') or {})}."
    else:
        text += (
            ". No patient died without progression, so the cumulative incidence of "
            "progression equals one minus the Kaplan–Meier estimate of "
            f"{endpoint}: there is no competing event to account for."
        )
    gray = _gray_words(section, labels)
    return f"{text} {gray}" if gray else text


def competing_blocks(
    results: Mapping[str, Any], labels: Labels, ex: Exhibits, placed: set[str]
) -> list[Block]:
    """Heading, prose, table and figures of the subsection ([] when the analysis is off)."""
    from rechallenge.report.document import Heading, Paragraph

    section = results.get("competing_risks")
    if not isinstance(section, Mapping):
        return []
    out: list[Block] = [Heading("Competing risks", 3, ANCHOR)]
    if section.get("error"):
        out.append(Paragraph(f"The competing-risks analysis was not done: {section['error']}."))
        return out
    refs = tuple(
        ref
        for ref, present in zip(
            DEFAULT_REFS, (COMPETING_TABLE_ID in ex.tables, "figure_cif" in ex.figures), strict=True
        )
        if present
    )
    paragraph = competing_paragraph(section, labels, refs)
    out.append(Paragraph(paragraph))
    out += ex.claim_tables([COMPETING_TABLE_ID], placed)
    out += ex.claim_figures(COMPETING_FIGURES, placed, pairs=[BY_SUBGROUP_PAIR])
    return out


def with_competing(
    results: Mapping[str, Any],
    labels: Labels,
    ex: Exhibits,
    placed: set[str],
    results_blocks: Callable[[], list[Block]],
) -> list[Block]:
    """The Results blocks with the Competing risks subsection before "Further results".

    Its exhibits are claimed first, so Results does not list them under "Further results".
    """
    from rechallenge.report.document import Heading

    section = competing_blocks(results, labels, ex, placed)
    blocks = results_blocks()
    if not section:
        return blocks
    at = next(
        (
            i
            for i, b in enumerate(blocks)
            if isinstance(b, Heading) and b.anchor == "results-further"
        ),
        len(blocks),
    )
    return blocks[:at] + section + blocks[at:]
