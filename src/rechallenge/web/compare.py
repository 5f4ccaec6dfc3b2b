"""Two runs side by side: what changed in the configuration and which numbers moved.

Both are flattened to leaves and compared leaf by leaf. Each leaf has a machine path
(``statistics.median_ci``; ``km.PFSR.all.median_months`` style paths of results.json, list
items by index or by their ``endpoint``/``stratum``/``variable``/``name`` keys when they have
them), used to sort, and the same path in words for the reader, from the label catalogue
(``OS, all patients, 12-month rate, lower 95% CI``). The run's record of itself (manifest,
timings, versions) and the per-patient rows behind the swimmer and waterfall plots are left
out of the numbers.

Words of a results path, by its first key:

1. ``km``: endpoint, stratum (``all patients`` or the subgroup's variable and level), then
   the statistic; a landmark rate reads ``12-month rate``; a bare ``lower``/``upper`` is the
   median's interval.
2. ``cox``, ``cox_models``, ``logrank``, ``efficacy``, ``baseline``, ``adverse_events``,
   ``cohort``, ``data_quality``, ``follow_up``: a section name, the row's own label (a Cox
   term, a baseline characteristic, a criterion), then the statistic.
3. Anything else: each key humanised, each list item by its label or name.

Statistics come from the catalogue's ``statistic`` kind, configuration keys from ``setting``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from rechallenge.labels import Labels, humanise, labels_from_config, labels_from_results
from rechallenge.report.text import warning_words
from rechallenge.web.forms import METHOD_LABELS

SKIPPED = frozenset(
    {"manifest", "timings", "schema_version", "warnings", "imputations", "swimmer", "waterfall"}
)
ITEM_KEYS = (
    "endpoint",
    "stratum",
    "group",
    "variable",
    "term",
    "level",
    "criterion",
    "name",
    "model",
    "table",
)


@dataclass(frozen=True, eq=False)
class Item:
    """One record of a list of records, as a path segment."""

    index: int
    record: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The segment in a machine path: ``6 months``, ``ecog_group/0-1``, or the index."""
        if _is_number(self.record.get("time_months")):
            return f"{self.record['time_months']:g} months"
        parts = [
            str(self.record[k]) for k in ITEM_KEYS if isinstance(self.record.get(k), str | int)
        ]
        return "/".join(parts) if parts else str(self.index)


Segment = str | Item


@dataclass(frozen=True)
class Change:
    """One leaf that differs between run A and run B, with its path and values in words."""

    path: str
    a: Any
    b: Any
    words: str = ""
    a_words: str = ""
    b_words: str = ""

    @property
    def delta(self) -> float | None:
        """B - A for numbers, else None."""
        if _is_number(self.a) and _is_number(self.b):
            return float(self.b) - float(self.a)
        return None


@dataclass(frozen=True)
class Leaf:
    """A value and the keys that lead to it."""

    segments: tuple[Segment, ...]
    value: Any = field(compare=False)

    @property
    def path(self) -> str:
        """``km.PFSR.all.rates.[6 months].lower``."""
        return ".".join(s if isinstance(s, str) else f"[{s.name}]" for s in self.segments)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def leaves(value: Any, skip: frozenset[str] = frozenset()) -> dict[str, Leaf]:
    """Leaves of a nested mapping by machine path (top-level keys in `skip` left out)."""
    out: dict[str, Leaf] = {}

    def walk(node: Any, segments: tuple[Segment, ...]) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if not segments and key in skip:
                    continue
                walk(item, (*segments, str(key)))
        elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
            for index, item in enumerate(node):
                walk(item, (*segments, Item(index, item)))
        else:
            leaf = Leaf(segments, node)
            out[leaf.path] = leaf

    walk(value, ())
    return out


def flatten(value: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Leaves of a nested mapping by dotted path."""
    return {path: leaf.value for path, leaf in leaves(value, skip).items()}


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def diff(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Every path whose value differs (or exists on one side only), in path order."""
    keys = sorted(set(a) | set(b))
    return [Change(k, a.get(k), b.get(k)) for k in keys if not _same(a.get(k), b.get(k))]


# ----------------------------------------------------------------------------- configuration
def setting_words(path: str, labels: Labels) -> str:
    """A configuration key in words: the catalogue's ``setting`` entry, else humanised."""
    head, _, rest = path.partition(".")
    fallback = humanise(rest.replace(".", ", ")) if rest else humanise(head)
    if rest and head:
        fallback = f"{humanise(head)}: {fallback[:1].lower() + fallback[1:]}"
    return labels.get("setting", path, default=fallback)


def _setting_path_words(segments: Sequence[Segment], labels: Labels) -> str:
    """A configuration leaf in words; inside a list of records (subgroups, custom criteria),
    the list's setting, the record's label or name, then the record's key."""
    items = [i for i, s in enumerate(segments) if isinstance(s, Item)]
    if not items:
        return setting_words(".".join(str(s) for s in segments), labels)
    first = items[0]
    words = [setting_words(".".join(str(s) for s in segments[:first]), labels)]
    for s in segments[first:]:
        if isinstance(s, Item):
            name = s.record.get("label") or s.record.get("name") or f"item {s.index + 1}"
            words.append(value_words("", str(name), labels))
        else:
            words.append(humanise(s).lower())
    return ", ".join(words)


def value_words(path: str, value: Any, labels: Labels) -> str:
    """A configuration value in words (methods, criteria and stop reasons from the catalogue)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if path in METHOD_LABELS:
        text = labels.method(METHOD_LABELS[path], value)
        return text[:1].upper() + text[1:]
    if isinstance(value, list):
        if path == "cohort.disabled":
            return "; ".join(labels.criterion(str(v)) for v in value) or "none"
        if path == "cohort.excluded_stop_reasons":
            return labels.stop_reasons(str(v) for v in value) or "none"
        if path.startswith("statistics.cox_"):
            return "; ".join(labels.variable(str(v)) for v in value) or "none"
        return ", ".join(value_words("", v, labels) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{humanise(k)}: {value_words('', v, labels)}" for k, v in value.items())
    if isinstance(value, str) and "_" in value:  # a variable's name, else a code
        return labels.get("variable", value, default=humanise(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _config_labels(yaml_text: str) -> tuple[dict[str, Leaf], Labels]:
    loaded = yaml.safe_load(yaml_text) or {}
    return leaves(loaded), labels_from_config(loaded)


def config_changes(yaml_a: str, yaml_b: str) -> list[Change]:
    """What changed in the configuration, with the settings and their values in words."""
    (flat_a, _), (flat_b, labels) = _config_labels(yaml_a), _config_labels(yaml_b)
    values_a = {k: leaf.value for k, leaf in flat_a.items()}
    values_b = {k: leaf.value for k, leaf in flat_b.items()}
    out = []
    for c in diff(values_a, values_b):
        segments = (flat_b.get(c.path) or flat_a[c.path]).segments
        key = ".".join(s for s in segments if isinstance(s, str))
        out.append(
            Change(
                c.path,
                c.a,
                c.b,
                words=_setting_path_words(segments, labels),
                a_words=value_words(key, c.a, labels),
                b_words=value_words(key, c.b, labels),
            )
        )
    return out


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class _Words:
    """What a results path's words need: the labels and the confidence level in percent."""

    labels: Labels
    ci: str

    def stat(self, key: Segment) -> str:
        text = self.labels.get("statistic", str(key), default=humanise(str(key)).lower())
        return text.replace("{ci}", self.ci)

    def endpoint(self, code: Segment) -> str:
        return self.labels.get("endpoint_short", str(code))

    def course(self, code: Segment) -> str:
        return self.labels.get("course", str(code))

    def stratum(self, code: Segment) -> str:
        variable, sep, level = str(code).partition("=")
        if not sep:
            return "all patients" if code == "all" else humanise(str(code))
        return self.labels.term(variable, level)

    def item(self, segment: Segment) -> str:
        """A list item by its own label, else its name or term, else its position."""
        if isinstance(segment, str):
            return humanise(segment)
        record = segment.record
        for key in ("label", "description", "name", "term"):
            if isinstance(record.get(key), str) and record[key]:
                text = str(record[key])
                text = humanise(text) if "_" in text else text
                level = record.get("level_label")
                if key == "label" and isinstance(level, str) and level not in text:
                    return f"{text}: {level}"
                return text
        return f"item {segment.index + 1}"

    def rest(self, segments: Sequence[Segment]) -> list[str]:
        """The remaining keys: list items by their labels, other keys as statistics."""
        return [self.stat(s) if isinstance(s, str) else self.item(s) for s in segments]


def _km(s: Sequence[Segment], w: _Words) -> list[str]:
    words = [w.endpoint(s[0])] if s else []
    if len(s) == 2:  # e.g. km.OS.days_per_month
        return [*words, w.stat(s[1])]
    if len(s) < 3:
        return words + w.rest(s[1:])
    words.append(w.stratum(s[1]))
    if s[2] == "rates" and len(s) >= 5 and isinstance(s[3], Item):
        months = s[3].record.get("time_months")
        rate = f"{months:g}-month rate" if _is_number(months) else w.item(s[3])
        words.append(rate)
        return words if s[4] == "surv" else [*words, w.stat(s[4])]
    if s[2] in ("lower", "upper"):
        return [*words, "median", w.stat(s[2])]
    return words + w.rest(s[2:])


def _cox(s: Sequence[Segment], w: _Words) -> list[str]:
    words = ["Cox model", w.endpoint(s[0])] if s else ["Cox model"]
    if len(s) >= 2 and isinstance(s[1], Item):
        record = s[1].record
        model = record.get("model")
        term = w.item(s[1])
        if isinstance(model, str):
            term += f" ({w.labels.method('model', model)})"
        return [*words, term, *w.rest(s[2:])]
    return words + w.rest(s[1:])


def _cox_models(s: Sequence[Segment], w: _Words) -> list[str]:
    words = ["Cox model", w.endpoint(s[0])] if s else ["Cox model"]
    if len(s) >= 2 and isinstance(s[1], Item):
        record = s[1].record
        variables = record.get("variables") or []
        model = w.labels.method("model", record.get("model", "univariable"))
        of = "; ".join(w.labels.variable(str(v)) for v in variables)
        words.append(f"{model} model of {of}" if of else f"{model} model")
        return words + w.rest(s[2:])
    return words + w.rest(s[1:])


def _logrank(s: Sequence[Segment], w: _Words) -> list[str]:
    if len(s) >= 2:
        return ["Log-rank test", w.endpoint(s[0]), w.labels.variable(str(s[1])), *w.rest(s[2:])]
    return ["Log-rank test", *w.rest(s)]


def _efficacy(s: Sequence[Segment], w: _Words) -> list[str]:
    words = [w.course(s[0])] if s else []
    if len(s) >= 3 and s[1] in ("bor", "bor_percent"):
        unit = "patients" if s[1] == "bor" else "%"
        response = w.labels.get("response", str(s[2]))
        return [*words, f"best overall response: {response[:1].lower() + response[1:]}", unit]
    if len(s) >= 3 and s[1] == "source":
        return [*words, f"responses {w.labels.get('source', str(s[2]))}", "patients"]
    return words + w.rest(s[1:])


def _adverse_events(s: Sequence[Segment], w: _Words) -> list[str]:
    if len(s) >= 2 and s[0] == "n":
        return ["Adverse events", w.course(s[1]), "patients"]
    if s:
        return ["Adverse events", w.course(s[0]), *w.rest(s[1:])]
    return ["Adverse events"]


def _data_quality(s: Sequence[Segment], w: _Words) -> list[str]:
    if len(s) >= 2 and s[0] == "warnings_by_code":
        return ["Data-quality warnings", warning_words(str(s[1]))]
    if s and s[0] == "completeness":
        return ["Data completeness", *w.rest(s[1:])]
    return ["Data quality", *w.rest(s)]


def _titled(title: str) -> Callable[[Sequence[Segment], _Words], list[str]]:
    def words(s: Sequence[Segment], w: _Words) -> list[str]:
        return [title, *w.rest([x for x in s if x != "rows" and x != "attrition"])]

    return words


SECTIONS: dict[str, Callable[[Sequence[Segment], _Words], list[str]]] = {
    "km": _km,
    "cox": _cox,
    "cox_models": _cox_models,
    "logrank": _logrank,
    "efficacy": _efficacy,
    "adverse_events": _adverse_events,
    "data_quality": _data_quality,
    "baseline": _titled("Baseline characteristics"),
    "cohort": _titled("Cohort"),
    "follow_up": _titled("Follow-up"),
    "methods": _titled("Methods"),
}


def result_words(segments: Sequence[Segment], w: _Words) -> str:
    """A results path in words: ``OS, all patients, 12-month rate, lower 95% CI``."""
    if not segments:
        return ""
    head, rest = segments[0], segments[1:]
    section = SECTIONS.get(head) if isinstance(head, str) else None
    parts = section(rest, w) if section else [humanise(str(head)), *w.rest(rest)]
    return ", ".join(p for p in parts if p)


def _confidence(results: Mapping[str, Any]) -> str:
    alpha = (results.get("methods") or {}).get("alpha", 0.05)
    return f"{(1 - float(alpha)) * 100:g}" if _is_number(alpha) else "95"


def number_changes(results_a: dict[str, Any], results_b: dict[str, Any]) -> list[Change]:
    """Which numbers (and counts) moved between the two runs' results, in words."""
    leaves_a, leaves_b = leaves(results_a, SKIPPED), leaves(results_b, SKIPPED)
    w = _Words(labels_from_results(results_b), _confidence(results_b))
    flat_a = {k: leaf.value for k, leaf in leaves_a.items()}
    flat_b = {k: leaf.value for k, leaf in leaves_b.items()}
    moved = [c for c in diff(flat_a, flat_b) if _is_number(c.a) or _is_number(c.b)]
    return [
        Change(
            c.path,
            c.a,
            c.b,
            words=result_words((leaves_b.get(c.path) or leaves_a[c.path]).segments, w),
        )
        for c in moved
    ]
