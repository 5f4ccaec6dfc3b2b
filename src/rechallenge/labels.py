"""Human labels for every code that can reach a journal-facing output.

Tables, figures, the report and the manuscript never print a configuration code
(`smoking_status`, `irae`, `log-log`); they ask this catalogue. The default catalogue is
package data (`labels.json`); a study configuration can override any entry with a dotted key:

    labels:
      variable.smoking_status: Tobacco use
      level.histology.squamous: Squamous
      failure.age_range: Aged outside {age_min}-{age_max}
      method.km_ci_method.log: log-transformed intervals

Kinds: ``variable``, ``level`` (``variable.level``), ``endpoint``, ``endpoint_short``,
``course``, ``response``, ``stop_reason``, ``criterion``, ``failure`` (CONSORT wording of a
failed criterion), ``method`` (``setting.value``), ``setting`` (a configuration key,
``statistics.km_conf_type``), ``statistic`` (a results.json number, ``n_risk``),
``resistance_class``, ``phase``, ``source``.
A code with no entry is humanised (underscores become spaces, first letter capitalised), so
no raw code ever reaches a reader. Templates may name ``{age_min}``, ``{age_max}``,
``{ecog_max}``, ``{stop_reasons}`` and ``{drivers}``; `Labels.with_params` fills them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

KINDS = (
    "variable",
    "level",
    "endpoint",
    "endpoint_short",
    "course",
    "response",
    "stop_reason",
    "criterion",
    "failure",
    "method",
    "setting",
    "statistic",
    "resistance_class",
    "phase",
    "source",
)


@lru_cache(maxsize=1)
def default_catalogue() -> dict[str, dict[str, str]]:
    """The packaged catalogue: kind -> code -> label."""
    text = resources.files("rechallenge").joinpath("labels.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return {kind: dict(raw.get(kind, {})) for kind in KINDS}


def humanise(code: object) -> str:
    """A readable fallback for a code without a label: ``large_cell`` -> ``Large cell``."""
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def split_override_key(key: str) -> tuple[str, str]:
    """``level.histology.squamous`` -> (``level``, ``histology.squamous``); checks the kind."""
    kind, _, code = key.partition(".")
    if kind not in KINDS or not code:
        raise KeyError(key)
    return kind, code


class _SafeFormat(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Labels:
    """The catalogue with a study's overrides and template parameters applied."""

    overrides: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    def with_params(self, **params: Any) -> Labels:
        """A copy whose templates are filled with these values (e.g. ``age_min=18``)."""
        return Labels(self.overrides, {**self.params, **params})

    def get(self, kind: str, code: object, default: str | None = None) -> str:
        """The label of `code` in `kind`; the override first, then the catalogue."""
        key = str(code)
        text = self.overrides.get(f"{kind}.{key}")
        if text is None:
            text = default_catalogue().get(kind, {}).get(key)
        if text is None:
            text = default if default is not None else humanise(key)
        return text.format_map(_SafeFormat(self.params)) if "{" in text else text

    def variable(self, name: str) -> str:
        """``smoking_status`` -> ``Smoking history``."""
        return self.get("variable", name)

    def level(self, variable: str, level: object) -> str:
        """``("histology", "squamous")`` -> ``Squamous cell carcinoma``."""
        return self.get("level", f"{variable}.{level}", default=humanise(level))

    def term(self, variable: str, level: object) -> str:
        """A regression term as a reader sees it: ``Histology: Squamous cell carcinoma``."""
        return f"{self.variable(variable)}: {self.level(variable, level)}"

    def criterion(self, name: str) -> str:
        """The criterion as the protocol words it (what a patient must meet)."""
        return self.get("criterion", name)

    def failure(self, name: str) -> str:
        """CONSORT wording of the failure: ``Age < 18 or > 75 years``."""
        return self.get("failure", name)

    def method(self, setting: str, value: object) -> str:
        """A method setting in words: ``("km_ci_method", "log")`` -> log-transformed ...."""
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        return self.get("method", f"{setting}.{shown}", default=humanise(shown))

    def stop_reasons(self, codes: Iterable[str]) -> str:
        """Stop-reason codes joined in words: ``... adverse events or clinical decision``."""
        words = [self.get("stop_reason", c) for c in codes]
        if len(words) <= 1:
            return "".join(words)
        return ", ".join(words[:-1]) + " or " + words[-1]


def labels_from_config(config: Mapping[str, Any] | None) -> Labels:
    """Labels for a run, from its configuration as dumped into results.json's manifest.

    Reads ``labels`` (overrides) and the cohort thresholds the templates name.
    """
    config = config or {}
    cohort = config.get("cohort", {}) or {}
    params: dict[str, Any] = {
        "age_min": cohort.get("age_min", 18),
        "age_max": cohort.get("age_max", 75),
        "ecog_max": cohort.get("ecog_max", 2),
        "drivers": ", ".join(cohort.get("excluded_drivers", []) or []),
    }
    labels = Labels(dict(config.get("labels", {}) or {}))
    stops = cohort.get("excluded_stop_reasons", ["clinical_decision", "marrow_suppression", "irae"])
    params["stop_reasons"] = labels.stop_reasons(stops)
    return labels.with_params(**params)


def labels_from_results(results: Mapping[str, Any]) -> Labels:
    """Labels for rendering a results dict (its manifest holds the run's configuration)."""
    manifest = results.get("manifest", {}) or {}
    return labels_from_config(manifest.get("config"))
