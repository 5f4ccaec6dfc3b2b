"""Plain-language text for the report, generated from the results (formatting only).

:func:`summary_points` states the main results; :func:`methods_sentences` states every
method setting recorded in ``results["methods"]``, including the software versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rechallenge.figures.km import VARIABLE_LABELS
from rechallenge.tables.model import n_pct, round_half_up
from rechallenge.tables.study import DEFINITIONS, fmt_ci_pct, fmt_p

KM_CI: Final[dict[str, str]] = {
    "log": "the log transformation of the survival function",
    "log-log": "the complementary log–log transformation",
    "plain": "the untransformed (linear) scale",
    "arcsin": "the arcsine–square-root transformation",
}
MEDIAN_CI: Final[dict[str, str]] = {
    "log": "the points where the log-transformed confidence band crosses 0.5 (Brookmeyer–Crowley)",
    "log-log": "the points where the log–log confidence band crosses 0.5 (Brookmeyer–Crowley)",
    "plain": "the points where the linear confidence band crosses 0.5 (Brookmeyer–Crowley)",
    "spss": "median ± 1.96 × SE (SPSS convention)",
}
CRITERIA: Final[dict[str, str]] = {"recist1.1": "RECIST 1.1", "irecist": "iRECIST"}
CENSORING: Final[dict[str, str]] = {
    "last_contact": "the date of last contact",
    "last_assessment": "the date of the last adequate tumour assessment",
}
KNOWN_METHOD_KEYS: Final[frozenset[str]] = frozenset(
    {
        "resistance_definition",
        "response_criterion",
        "bor_confirmation",
        "ctcae_version",
        "km_ci_method",
        "median_ci_method",
        "cox_ties",
        "alpha",
        "days_per_month",
        "censoring_rule",
        "software",
    }
)


def _months(x: Any) -> str:
    return "not reached" if x is None else f"{round_half_up(float(x), 2)} months"


def _median(curve: Mapping[str, Any]) -> str:
    def lim(v: Any) -> str:
        return "NR" if v is None else round_half_up(float(v), 2)

    return f"{_months(curve.get('median_months'))} (95% CI {lim(curve.get('lower'))}–" + (
        f"{lim(curve.get('upper'))})"
    )


def _efficacy_point(course: str, eff: Mapping[str, Any]) -> str:
    n = int(eff["n"])
    bor = eff.get("bor") or {}
    parts = [f"{k} {n_pct(int(v), n)}" for k, v in bor.items() if int(v)]
    orr = int(bor.get("CR", 0)) + int(bor.get("PR", 0))
    dcr = orr + int(bor.get("SD", 0))
    return (
        f"{course} (n = {n}): best overall response {', '.join(parts) or 'none recorded'}; "
        f"ORR {n_pct(orr, n)}, 95% CI {fmt_ci_pct(eff.get('orr'))}%; "
        f"DCR {n_pct(dcr, n)}, 95% CI {fmt_ci_pct(eff.get('dcr'))}%."
    )


def _subgroup_point(endpoint: str, variable: str, km: Mapping[str, Any], test: Any) -> str:
    groups = [str(g) for g in test.get("groups", [])]
    medians = [_months((km.get(f"{variable}={g}") or {}).get("median_months")) for g in groups]
    label = VARIABLE_LABELS.get(variable, variable)
    pairs = " vs ".join(f"{g.replace('-', '–')}: {m}" for g, m in zip(groups, medians, strict=True))
    return f"Median {endpoint} by {label} ({pairs}); log-rank p {_p_words(test.get('p'))}."


def _p_words(p: Any) -> str:
    text = fmt_p(p)
    return text if text.startswith("<") else f"= {text}"


def summary_points(results: Mapping[str, Any]) -> list[str]:
    """The main results as short sentences, skipping any part the results lack."""
    points: list[str] = []
    cohort = results.get("cohort") or {}
    if cohort:
        points.append(
            f"{cohort.get('screened', '?')} patients screened, "
            f"{cohort.get('included', '?')} included in the analysis."
        )
    efficacy = results.get("efficacy") or {}
    for key, name in (("initial", "Initial ICI"), ("rechallenge", "Rechallenge")):
        if isinstance(efficacy.get(key), Mapping):
            points.append(_efficacy_point(name, efficacy[key]))
    km = results.get("km") or {}
    for endpoint, name in (("PFS1", "PFS1"), ("PFSR", "PFSR"), ("OS", "OS")):
        curve = (km.get(endpoint) or {}).get("all")
        if isinstance(curve, Mapping):
            points.append(
                f"Median {name}: {_median(curve)}; {curve.get('events')} events "
                f"in {curve.get('n')} patients."
            )
    for endpoint, tests in (results.get("logrank") or {}).items():
        for variable, test in tests.items():
            points.append(_subgroup_point(endpoint, variable, km.get(endpoint) or {}, test))
    return points


def _software(software: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {version}" for name, version in software.items())


def methods_sentences(methods: Mapping[str, Any]) -> list[str]:
    """One sentence per method setting, in a fixed order, naming every default used."""
    m = methods
    out: list[str] = []
    if "resistance_definition" in m:
        code = str(m["resistance_definition"])
        out.append(
            f"Acquired immune resistance was defined by {DEFINITIONS.get(code, code)} "
            f"(setting '{code}')."
        )
    if "response_criterion" in m:
        crit = CRITERIA.get(str(m["response_criterion"]), str(m["response_criterion"]))
        confirm = "required" if m.get("bor_confirmation") else "did not require"
        out.append(
            f"Tumour response was assessed by {crit}; best overall response {confirm} "
            "confirmation by a later assessment."
        )
    if "ctcae_version" in m:
        out.append(f"Adverse events were graded by NCI-CTCAE version {m['ctcae_version']}.")
    if "km_ci_method" in m:
        ci = str(m["km_ci_method"])
        out.append(
            "Survival was estimated by the Kaplan–Meier method with pointwise 95% confidence "
            f"intervals on {KM_CI.get(ci, ci)} (setting '{ci}')."
        )
    if "median_ci_method" in m:
        mc = str(m["median_ci_method"])
        out.append(
            f"Confidence intervals for median survival were taken from "
            f"{MEDIAN_CI.get(mc, mc)} (setting '{mc}')."
        )
    if "cox_ties" in m:
        ties = str(m["cox_ties"])
        out.append(
            f"Hazard ratios were estimated by Cox proportional-hazards regression with "
            f"the {ties.capitalize()} approximation for tied event times."
        )
    if "alpha" in m:
        out.append(f"Tests were two-sided at a significance level of {m['alpha']}.")
    if "days_per_month" in m:
        out.append(
            "Durations were computed in whole days and converted to months by dividing "
            f"by {m['days_per_month']}."
        )
    if "censoring_rule" in m:
        rule = str(m["censoring_rule"])
        out.append(f"Patients without the event were censored at {CENSORING.get(rule, rule)}.")
    other = {k: v for k, v in m.items() if k not in KNOWN_METHOD_KEYS}
    if other:
        out.append("Other settings: " + "; ".join(f"{k} = {v}" for k, v in other.items()) + ".")
    if isinstance(m.get("software"), Mapping) and m["software"]:
        out.append(f"Software: {_software(m['software'])}.")
    return out
