"""The configuration form, generated from `StudyConfig`'s JSON schema, and read back.

Each leaf of the schema becomes one field named by its dotted key (``resistance.definition``):
an enumeration a select (its options in words where `rechallenge.labels` has them), a
boolean a checkbox, a number a number box, a list of words a comma-separated text box, and a
list of records (subgroups, custom criteria) or the label overrides a YAML box. The cohort's
``disabled`` list is shown the other way round: one "applied" checkbox per protocol criterion,
with its human name. Reading the form back gives the mapping the YAML file holds; the
library's own validation then checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from rechallenge.config import StudyConfig
from rechallenge.errors import ConfigError
from rechallenge.labels import Labels, labels_from_config
from rechallenge.rules.cohort import protocol_criteria

# Schema fields whose values `labels.json` words under `method` (setting name there).
METHOD_LABELS = {
    "resistance.definition": "resistance_definition",
    "response.criterion": "response_criterion",
    "statistics.km_conf_type": "km_ci_method",
    "statistics.median_ci": "median_ci_method",
    "statistics.cox_ties": "cox_ties",
    "statistics.proportion_ci": "proportion_ci",
    "endpoints.censoring": "censoring_rule",
    "adverse_events.ctcae_version": "ctcae_version",
}
SECTION_TITLES = {
    "data": "Reading the data",
    "cohort": "Rechallenge criteria",
    "resistance": "Acquired resistance definition",
    "response": "Tumour response",
    "adverse_events": "Adverse events",
    "endpoints": "Endpoints",
    "statistics": "Statistics: confidence intervals, subgroups and covariates",
    "output": "Outputs",
}
CRITERION_PREFIX = "criterion:"


@dataclass
class Field:
    """One form control."""

    key: str
    label: str
    help: str
    widget: str  # select, checkbox, number, text, list, yaml
    value: Any
    options: list[tuple[str, str]] = field(default_factory=list)
    step: str = "1"
    minimum: Any = None
    maximum: Any = None

    @property
    def dom_id(self) -> str:
        """An HTML id for the control."""
        return "f-" + self.key.replace(".", "-").replace(":", "-")


@dataclass
class Section:
    """One fieldset of the form."""

    key: str
    title: str
    fields: list[Field]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        resolved: dict[str, Any] = schema["$defs"][ref.rsplit("/", 1)[1]]
        return resolved
    return node


def _option_label(labels: Labels, key: str, value: str) -> str:
    setting = METHOD_LABELS.get(key)
    if setting is None:
        return value
    text = labels.get("method", f"{setting}.{value}", default="")
    if not text and "_" in value:
        text = labels.get("method", f"{setting}.{value.split('_')[0]}", default="")
    return text[:1].upper() + text[1:] if text else value


def _leaf(key: str, node: dict[str, Any], value: Any, labels: Labels) -> Field:
    """The control for one schema leaf."""
    title = labels.get("setting", key, default=node.get("title", key.rsplit(".", 1)[-1]))
    help_text = node.get("description", "")
    choices = [n for n in node.get("anyOf", [node]) if n.get("type") != "null"]
    main = choices[0] if choices else node
    kind = main.get("type")
    if len(choices) > 1:  # e.g. 'single' | 'double' | millimetres: a number or a word
        shown = "" if value is None else str(value)
        return Field(key, title, help_text, "text", shown, step="scalar")
    if "enum" in main:
        options = [(str(v), _option_label(labels, key, str(v))) for v in main["enum"]]
        return Field(key, title, help_text, "select", str(value), options)
    if kind == "boolean":
        return Field(key, title, help_text, "checkbox", bool(value))
    if kind in ("integer", "number") and len(choices) == 1 and "anyOf" not in node:
        step = "1" if kind == "integer" else "any"
        return Field(
            key,
            title,
            help_text,
            "number",
            value,
            step=step,
            minimum=main.get("minimum"),
            maximum=main.get("maximum"),
        )
    if kind == "array" and main.get("items", {}).get("type") in ("string", "number", "integer"):
        return Field(key, title, help_text, "list", ", ".join(str(v) for v in value or []))
    if kind in ("string", "integer", "number"):
        return Field(key, title, help_text, "text", "" if value is None else str(value))
    shown = yaml.safe_dump(value, sort_keys=False, allow_unicode=True) if value else ""
    empty = "object" if kind == "object" else "array" if kind == "array" else "null"
    return Field(key, title, help_text, "yaml", shown, step=empty)  # step: what empty means


def build_form(config: StudyConfig) -> list[Section]:
    """The form's sections and controls, filled with `config`'s values."""
    schema = StudyConfig.model_json_schema()
    values = config.model_dump(mode="json", by_alias=True)  # the keys the YAML and schema use
    labels = labels_from_config(values)
    sections = [
        Section(
            "study",
            "Study",
            [_leaf("title", schema["properties"]["title"], values["title"], labels)],
        )
    ]
    for name, node in schema["properties"].items():
        if name in ("title", "labels"):
            continue
        model = _resolve(schema, node)
        fields: list[Field] = []
        if name == "cohort":
            disabled = set(values["cohort"]["disabled"])
            fields += [
                Field(
                    CRITERION_PREFIX + c.name,
                    labels.criterion(c.name),
                    f"{c.kind} criterion '{c.name}'; untick to switch it off",
                    "checkbox",
                    c.name not in disabled,
                )
                for c in protocol_criteria(config.cohort)
            ]
        for leaf, leaf_node in model.get("properties", {}).items():
            if name == "cohort" and leaf == "disabled":
                continue
            fields.append(_leaf(f"{name}.{leaf}", leaf_node, values[name][leaf], labels))
        sections.append(Section(name, SECTION_TITLES.get(name, name), fields))
    sections.append(
        Section(
            "labels",
            "Label overrides",
            [_leaf("labels", schema["properties"]["labels"], values["labels"], labels)],
        )
    )
    return sections


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _parse(control: Field, raw: str | None) -> Any:
    """The value of one control as the YAML holds it."""
    if control.widget == "checkbox":
        return raw is not None
    text = (raw or "").strip()
    if control.widget == "number":
        if not text:
            raise ConfigError(f"{control.key}: a number is required")
        try:
            return _number(text)
        except ValueError:
            raise ConfigError(f"{control.key}: {text!r} is not a number") from None
    if control.widget == "list":
        items = [part.strip() for part in text.split(",") if part.strip()]
        if control.key == "endpoints.landmarks_months":
            try:
                return [_number(i) for i in items]
            except ValueError:
                raise ConfigError(f"{control.key}: write numbers separated by commas") from None
        return items
    if control.widget == "yaml":
        try:
            loaded = yaml.safe_load(text) if text else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{control.key}: not valid YAML ({exc})") from None
        if loaded is not None:
            return loaded
        return {"object": {}, "array": []}.get(str(control.step))
    if control.widget == "text" and not text and control.key != "title":
        return None
    if control.step == "scalar":
        try:
            return _number(text)
        except ValueError:
            return text
    return text


def read_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The configuration mapping from a submitted form (the library validates it next)."""
    sections = build_form(StudyConfig())
    out: dict[str, Any] = {}
    disabled: list[str] = []
    for section in sections:
        for control in section.fields:
            value = _parse(control, form.get(control.key))
            if control.key.startswith(CRITERION_PREFIX):
                if not value:
                    disabled.append(control.key.removeprefix(CRITERION_PREFIX))
                continue
            head, _, leaf = control.key.partition(".")
            if leaf:
                out.setdefault(head, {})[leaf] = value
            else:
                out[head] = value
    out.setdefault("cohort", {})["disabled"] = disabled
    return out
