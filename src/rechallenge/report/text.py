"""The study's prose, generated from the results: Results, Methods, abstract, captions.

Every sentence states a number together with the method that produced it ("Median PFSR was
2.9 months (95% CI 1.9–11.0; Kaplan–Meier)"). Words for codes come from the label
catalogue (:mod:`rechallenge.labels`), so no configuration code reaches the text. Tables
and figures are referred to by key (``{table:<id>}``, ``{figure:<stem>}``); the document
builder (:mod:`rechallenge.report.document`) numbers and resolves them.

Nothing is recomputed here: every number is read from the results and only formatted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from rechallenge.figures.render import figure_style
from rechallenge.labels import Labels, default_catalogue, humanise
from rechallenge.tables.model import Cell, Table, data_row, round_half_up
from rechallenge.tables.study import fmt_num, fmt_p

#: Full references for the methods the text can cite, keyed by citation key.
REFERENCES: Final[dict[str, str]] = {
    "aalen1978": "Aalen O. Nonparametric estimation of partial transition probabilities in "
    "multiple decrement models. Ann Stat. 1978;6(3):534–545.",
    "brookmeyer1982": "Brookmeyer R, Crowley J. A confidence interval for the median survival "
    "time. Biometrics. 1982;38:29–41.",
    "clopper1934": "Clopper CJ, Pearson ES. The use of confidence or fiducial limits "
    "illustrated in the case of the binomial. Biometrika. 1934;26:404–413.",
    "cox1972": "Cox DR. Regression models and life-tables. J R Stat Soc Series B. 1972;34:187–220.",
    "ctcae": "National Cancer Institute. Common Terminology Criteria for Adverse Events "
    "(CTCAE), version {version}. Bethesda, MD: US Department of Health and Human Services, "
    "National Institutes of Health{published}.",
    "eisenhauer2009": "Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation "
    "criteria in solid tumours: revised RECIST guideline (version 1.1). Eur J Cancer. "
    "2009;45:228–247.",
    "firth1993": "Firth D. Bias reduction of maximum likelihood estimates. Biometrika. "
    "1993;80:27–38.",
    "gray1988": "Gray RJ. A class of K-sample tests for comparing the cumulative incidence of "
    "a competing risk. Ann Stat. 1988;16(3):1141–1154.",
    "harrell1996": "Harrell FE, Lee KL, Mark DB. Multivariable prognostic models: issues in "
    "developing models, evaluating assumptions and adequacy, and measuring and reducing "
    "errors. Stat Med. 1996;15:361–387.",
    "heinze2001": "Heinze G, Schemper M. A solution to the problem of monotone likelihood in "
    "Cox regression. Biometrics. 2001;57:114–119.",
    "kaplan1958": "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. "
    "J Am Stat Assoc. 1958;53(282):457–481.",
    "kluger2020": "Kluger HM, Tawbi HA, Ascierto ML, et al. Defining tumor resistance to PD-1 "
    "pathway blockade: recommendations from the first meeting of the SITC Immunotherapy "
    "Resistance Taskforce. J Immunother Cancer. 2020;8:e000398.",
    "pintilie2006": "Pintilie M. Competing Risks: A Practical Perspective. Chichester: "
    "Wiley; 2006.",
    "peduzzi1995": "Peduzzi P, Concato J, Feinstein AR, Holford TR. Importance of events per "
    "independent variable in proportional hazards regression analysis. II. Accuracy and "
    "precision of regression estimates. J Clin Epidemiol. 1995;48:1503–1510.",
    "schemper1996": "Schemper M, Smith TL. A note on quantifying follow-up in studies of "
    "failure time. Control Clin Trials. 1996;17(4):343–346.",
    "schoenfeld2021": "Schoenfeld AJ, Antonia SJ, Awad MM, et al. Clinical definition of "
    "acquired resistance to immunotherapy in patients with metastatic non-small-cell lung "
    "cancer. Ann Oncol. 2021;32(12):1597–1607. doi:10.1016/j.annonc.2021.08.2151",
    "simon2011": "Simon N, Friedman J, Hastie T, Tibshirani R. Regularization paths for Cox's "
    "proportional hazards model via coordinate descent. J Stat Softw. 2011;39(5):1–13.",
    "uno2011": "Uno H, Cai T, Pencina MJ, D'Agostino RB, Wei LJ. On the C-statistics for "
    "evaluating overall adequacy of risk prediction procedures with censored survival data. "
    "Stat Med. 2011;30:1105–1117.",
}
CITE: Final[dict[str, str]] = {
    "aalen1978": "Aalen, 1978",
    "brookmeyer1982": "Brookmeyer and Crowley, 1982",
    "clopper1934": "Clopper and Pearson, 1934",
    "cox1972": "Cox, 1972",
    "ctcae": "National Cancer Institute",
    "eisenhauer2009": "Eisenhauer et al., 2009",
    "firth1993": "Firth, 1993",
    "gray1988": "Gray, 1988",
    "heinze2001": "Heinze and Schemper, 2001",
    "kaplan1958": "Kaplan and Meier, 1958",
    "kluger2020": "Kluger et al., 2020",
    "harrell1996": "Harrell et al., 1996",
    "peduzzi1995": "Peduzzi et al., 1995",
    "pintilie2006": "Pintilie, 2006",
    "schemper1996": "Schemper and Smith, 1996",
    "schoenfeld2021": "Schoenfeld et al., 2021",
    "simon2011": "Simon et al., 2011",
    "uno2011": "Uno et al., 2011",
}
CTCAE_PUBLISHED: Final[dict[str, str]] = {
    "4.0": "28 May 2009",
    "4.03": "14 June 2010",
    "5.0": "27 November 2017",
}
DEFINITION_REFERENCE: Final[dict[str, str]] = {
    "schoenfeld2021": "schoenfeld2021",
    "sitc2020": "kluger2020",
    "kluger2020": "kluger2020",
}
LANDMARKS: Final[tuple[float, ...]] = (6.0, 12.0)
ENDPOINTS: Final[tuple[str, ...]] = ("PFS1", "PFSR", "OS")


@dataclass(frozen=True)
class Section:
    """A titled subsection: paragraphs, then the exhibits placed after them (by key)."""

    heading: str
    anchor: str
    paragraphs: tuple[str, ...]
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    figures_first: bool = False


@dataclass
class _Text:
    """Sentences being gathered for one paragraph."""

    parts: list[str] = field(default_factory=list)

    def add(self, sentence: str | None) -> None:
        if sentence:
            self.parts.append(sentence.strip())

    def paragraph(self) -> str:
        return " ".join(self.parts)


# --- number formatting ---------------------------------------------------------------------


def months(x: Any) -> str:
    """``2.9`` from a duration in months (one decimal, rounded half up)."""
    return round_half_up(float(x), 1)


def pct(fraction: Any) -> str:
    """``30.8%`` from a proportion between 0 and 1."""
    return f"{round_half_up(float(fraction) * 100, 1)}%"


def p_text(p: Any) -> str:
    """``p = 0.004`` or ``p < 0.001``."""
    shown = fmt_p(p)
    return f"p {shown[0]} {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def ci_months(lower: Any, upper: Any) -> str:
    """``95% CI 1.9–11.0``; an undefined upper limit is "not reached"."""
    lo = "not estimable" if lower is None else months(lower)
    hi = "not reached" if upper is None else months(upper)
    return f"95% CI {lo}–{hi}"


def ci_pct(lower: Any, upper: Any) -> str:
    """``95% CI 25.7–83.0%`` from proportion limits."""
    if lower is None or upper is None:
        return "95% CI not estimable"
    return f"95% CI {round_half_up(float(lower) * 100, 1)}–{round_half_up(float(upper) * 100, 1)}%"


def count_pct(k: int, n: int) -> str:
    """``8 of 13 (61.5%)``."""
    share = f" ({round_half_up(100 * k / n, 1)}%)" if n else ""
    return f"{k} of {n}{share}"


def hr_text(row: Mapping[str, Any]) -> str:
    """``HR 6.84, 95% CI 1.56–30.03`` (two decimals)."""

    def two(x: Any) -> str:
        return "not estimable" if x is None else round_half_up(float(x), 2)

    return f"HR {two(row.get('hr'))}, 95% CI {two(row.get('lower'))}–{two(row.get('upper'))}"


def join_words(words: Sequence[str]) -> str:
    """``a, b and c``."""
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def cite(*keys: str) -> str:
    """``(Kaplan and Meier, 1958; Cox, 1972)``."""
    return "(" + "; ".join(CITE[k] for k in keys) + ")"


def lc(text: str) -> str:
    """Lower-case the first letter unless the word is an acronym (``ECOG``, ``ICI``)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def ctcae_cite(version: Any) -> str:
    """``(National Cancer Institute, 2009)`` for CTCAE version 4.0."""
    published = CTCAE_PUBLISHED.get(str(version), "")
    year = f", {published.rsplit(' ', 1)[-1]}" if published else ""
    return f"({CITE['ctcae']}{year})"


def first_key(tables: Collection[str], word: str) -> str | None:
    """The first table id containing ``word`` (ids are owned by the table builders)."""
    return next((k for k in tables if word in k), None)


# --- labels that tolerate older results ----------------------------------------------------


def method_words(results: Mapping[str, Any], labels: Labels, setting: str, value: Any) -> str:
    """A method setting in words: the results' own wording first, then the catalogue."""
    given = ((results.get("methods") or {}).get("methods_text") or {}).get(setting)
    if isinstance(given, str) and given:
        return given
    return labels.method(setting, value)


def failure_words(row: Mapping[str, Any], labels: Labels) -> str:
    """CONSORT wording of an attrition step: contract label, catalogue, or description."""
    if row.get("failure_label"):
        return str(row["failure_label"])
    code = str(row.get("criterion", ""))
    if code in default_catalogue()["failure"] or labels.overrides.get(f"failure.{code}"):
        return labels.failure(code)
    return str(row.get("description") or humanise(code))


def criterion_words(row: Mapping[str, Any], labels: Labels) -> str:
    """The criterion in words: contract label, catalogue, or description."""
    if row.get("label"):
        return str(row["label"])
    code = str(row.get("criterion", ""))
    if code in default_catalogue()["criterion"] or labels.overrides.get(f"criterion.{code}"):
        return labels.criterion(code)
    return str(row.get("description") or humanise(code))


def level_words(labels: Labels, variable: str, level: Any) -> str:
    """A factor level in words (``0-1`` → ``0–1``)."""
    return (
        labels.level(variable, level).replace("-", "–")
        if str(level)[:1].isdigit()
        else (labels.level(variable, level))
    )


def endpoint_short(labels: Labels, endpoint: str) -> str:
    """``PFSR``."""
    return labels.get("endpoint_short", endpoint)


def endpoint_long(labels: Labels, endpoint: str) -> str:
    """``progression-free survival on rechallenge (PFSR)`` (lower-case start)."""
    name = labels.get("endpoint", endpoint)
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def variable_words(labels: Labels, variable: str) -> str:
    """``ECOG performance status``; a trailing unit (``, years``) is dropped."""
    return labels.variable(variable).split(",")[0]


def cox_rows(results: Mapping[str, Any], endpoint: str) -> list[Mapping[str, Any]]:
    """One row per (model, term): the Firth row replaces a monotone ordinary row."""
    rows = list((results.get("cox") or {}).get(endpoint) or [])
    chosen: dict[tuple[str, str], Mapping[str, Any]] = {}
    for row in rows:
        key = (str(row.get("model", "univariable")), str(row.get("term")))
        if key not in chosen or (row.get("firth") and not chosen[key].get("firth")):
            chosen[key] = row
    return list(chosen.values())


def term_words(row: Mapping[str, Any], labels: Labels) -> str:
    """``ECOG performance status 2 (vs 0–1)`` or ``age (per year)``."""
    variable = str(row.get("variable", ""))
    var = str(row.get("variable_label") or variable_words(labels, variable)).split(",")[0]
    level = str(row.get("level_label") or level_words(labels, variable, row.get("level")))
    reference = row.get("reference")
    if reference is None or "per " in level.lower() or "per " in str(reference).lower():
        return f"{var} ({level})"
    ref = level_words(labels, variable, reference)
    return f"{var}, {lc(level)} vs {lc(ref)}"


# --- Results -------------------------------------------------------------------------------


def _selection_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    cohort = results.get("cohort") or {}
    if not cohort:
        return None
    t = _Text()
    screened, included = cohort.get("screened"), cohort.get("included")
    t.add(
        f"Of {screened} patients screened, {included} met all selection criteria and were "
        "analysed ({figure:flow})."
    )
    reasons = [
        f"{lc(failure_words(r, labels))} (n = {int(r['excluded'])})"
        for r in cohort.get("attrition") or []
        if int(r.get("excluded") or 0) > 0
    ]
    if reasons:
        t.add(
            f"Patients were excluded for the following reasons, in the order the criteria "
            f"were applied: {'; '.join(reasons)}."
        )
    return t.paragraph()


def _baseline_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    baseline = results.get("baseline") or {}
    rows = baseline.get("rows") or []
    if not rows:
        return None
    t = _Text()
    for row in rows:
        if row.get("kind") == "continuous" and row.get("median") is not None:
            name, _, unit = labels.variable(str(row.get("variable"))).partition(",")
            low, high = ("q1", "q3") if row.get("q1") is not None else ("min", "max")
            spread = "IQR" if low == "q1" else "range"
            unit = f" {unit.strip()}" if unit.strip() else ""
            limits = (
                f" ({spread} {fmt_num(row[low])}–{fmt_num(row[high])})"
                if row.get(low) is not None and row.get(high) is not None
                else ""
            )
            t.add(f"The median {lc(name)} was {fmt_num(row['median'])}{unit}{limits}.")
            break
    n = int(baseline.get("n") or 0)
    sex = [r for r in rows if r.get("variable") == "sex" and r.get("level") == "male"]
    if sex and n:
        k = int(sex[0]["n"])
        t.add(f"Men accounted for {k} of {n} patients ({round_half_up(100 * k / n, 1)}%).")
    t.add("Baseline characteristics are given in {table:baseline}.")
    return t.paragraph()


def _bor_words(bor: Mapping[str, Any], n: int, labels: Labels) -> str:
    parts = [
        f"{labels.get('response', code).lower()} in {count_pct(int(k), n)}"
        for code, k in bor.items()
        if int(k or 0) > 0
    ]
    return join_words(parts)


def count_ci(k: int, n: int, est: Mapping[str, Any], method: str | None = None) -> str:
    """``8 of 13 (61.5%; 95% CI 31.6–86.1%)``, optionally naming the interval method."""
    share = f"{round_half_up(100 * k / n, 1)}%; " if n else ""
    named = f", {method}" if method else ""
    return f"{k} of {n} ({share}{ci_pct(est.get('lower'), est.get('upper'))}{named})"


def _course_efficacy(course: str, eff: Mapping[str, Any], labels: Labels, ci_words: str) -> str:
    n = int(eff.get("n") or 0)
    bor = eff.get("bor") or {}
    orr = eff.get("orr") or {}
    dcr = eff.get("dcr") or {}
    k_orr = int(orr.get("count", int(bor.get("CR", 0)) + int(bor.get("PR", 0))))
    k_dcr = int(dcr.get("count", k_orr + int(bor.get("SD", 0))))
    name = labels.get("course", course)
    name = name[:1].lower() + name[1:] if name[1:2].islower() else name
    return (
        f"On the {name} (n = {n}), the objective response rate was "
        f"{count_ci(k_orr, n, orr, ci_words)} and the disease control rate "
        f"{count_ci(k_dcr, n, dcr)}; best overall response was "
        f"{_bor_words(bor, n, labels) or 'not assessed'}."
    )


def _efficacy_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    efficacy = results.get("efficacy") or {}
    courses = [c for c in ("initial", "rechallenge") if isinstance(efficacy.get(c), Mapping)]
    if not courses:
        return None
    methods = results.get("methods") or {}
    ci_words = method_words(
        results, labels, "proportion_ci", methods.get("proportion_ci", "clopper-pearson")
    )
    t = _Text()
    criterion = method_words(
        results, labels, "response_criterion", methods.get("response_criterion", "recist1.1")
    )
    t.add(f"Response was assessed by {criterion}.")
    for course in courses:
        t.add(_course_efficacy(course, efficacy[course], labels, ci_words))
        source = efficacy[course].get("source") or {}
        inv = int(source.get("investigator") or 0)
        if inv:
            t.add(
                f"For {inv} patient{'s' if inv != 1 else ''} on this course the best response "
                "was taken from the investigator's assessment because lesion measurements "
                "were incomplete."
            )
    t.add(
        "Responses are summarised in {table:efficacy}, {figure:figure2_waterfall} and "
        "{figure:figure3_swimmer}."
    )
    return t.paragraph()


def follow_up_sentence(results: Mapping[str, Any], labels: Labels) -> str | None:
    """Median follow-up by the reverse Kaplan–Meier method (contract ``follow_up``)."""
    fu = results.get("follow_up")
    if not isinstance(fu, Mapping) or fu.get("median_months") is None:
        if isinstance(fu, Mapping) and fu:
            return "Median follow-up could not be estimated (no patient was censored)."
        return None
    method = method_words(results, labels, "follow_up", fu.get("method", "reverse_km"))
    endpoint = str(fu.get("endpoint", "OS"))
    origin = " from the start of rechallenge" if endpoint in ("OS", "PFSR") else ""
    return (
        f"Median follow-up{origin} was {months(fu['median_months'])} months "
        f"({ci_months(fu.get('lower'), fu.get('upper'))}; {method}"
        f"{', ' + str(fu['n']) + ' patients' if fu.get('n') else ''})."
    )


def _rate_words(rate: Mapping[str, Any]) -> str:
    at = round_half_up(float(rate["time_months"]), 0)
    estimable = rate.get("estimable", rate.get("surv") is not None)
    if not estimable or rate.get("surv") is None:
        return f"not estimable at {at} months (no patient remained under follow-up)"
    if float(rate["surv"]) == 0.0:
        return f"0% at {at} months"
    return f"{pct(rate['surv'])} at {at} months ({ci_pct(rate.get('lower'), rate.get('upper'))})"


def survival_sentence(endpoint: str, curve: Mapping[str, Any], labels: Labels) -> str:
    """``Median PFSR was 2.9 months (95% CI 1.9–11.0; Kaplan–Meier), with 11 events …``."""
    short = endpoint_short(labels, endpoint)
    events, n = curve.get("events"), curve.get("n")
    if curve.get("median_months") is None:
        head = f"Median {short} was not reached"
        if curve.get("lower") is not None:
            head += f" ({ci_months(curve.get('lower'), curve.get('upper'))}; Kaplan–Meier)"
        else:
            head += " (Kaplan–Meier)"
    else:
        head = (
            f"Median {short} was {months(curve['median_months'])} months "
            f"({ci_months(curve.get('lower'), curve.get('upper'))}; Kaplan–Meier)"
        )
    text = f"{head}, with {events} events in {n} patients."
    rates = [r for r in curve.get("rates") or [] if r.get("time_months") is not None]
    rates = [r for r in rates if float(r["time_months"]) in LANDMARKS] or rates
    if rates:
        text += (
            f" The estimated {short} rate was " + join_words([_rate_words(r) for r in rates]) + "."
        )
    return text


def _survival_paragraphs(results: Mapping[str, Any], labels: Labels) -> list[str]:
    km = results.get("km") or {}
    out: list[str] = []
    fu = follow_up_sentence(results, labels)
    if fu:
        out.append(fu)
    figure = {"PFS1": "figure1_km_pfs", "PFSR": "figure1_km_pfs", "OS": "figure7_km_os"}
    for endpoint in ENDPOINTS:
        curve = (km.get(endpoint) or {}).get("all")
        if isinstance(curve, Mapping):
            out.append(
                survival_sentence(endpoint, curve, labels)[:-1]
                + f" ({{figure:{figure[endpoint]}}})."
            )
    return out


def _subgroup_sentence(
    endpoint: str,
    variable: str,
    test: Mapping[str, Any],
    km: Mapping[str, Any],
    labels: Labels,
    alpha: float,
    figures: Collection[str],
) -> str:
    groups = [str(g) for g in test.get("groups", [])]
    parts = []
    for g in groups:
        curve = km.get(f"{variable}={g}") or {}
        med = curve.get("median_months")
        shown = "not reached" if med is None else f"{months(med)} months"
        parts.append(f"{shown} for {lc(level_words(labels, variable, g))}")
    p = test.get("p")
    differs = p is not None and float(p) < alpha
    verb = "differed" if differs else "did not differ significantly"
    short = endpoint_short(labels, endpoint)
    stem = next(
        (
            s
            for s in figures
            if "_km_" in s and endpoint.lower() in s and variable.split("_")[0] in s
        ),
        None,
    )
    figure = f"; {{figure:{stem}}}" if stem else ""
    return (
        f"{short} {verb} by {variable_words(labels, variable)} (median {join_words(parts)}; "
        f"{p_text(p)}, log-rank test{figure})."
    )


def _subgroup_paragraphs(
    results: Mapping[str, Any], labels: Labels, figures: Collection[str]
) -> list[str]:
    alpha = float((results.get("methods") or {}).get("alpha", 0.05))
    km = results.get("km") or {}
    out = []
    for endpoint in ENDPOINTS:
        tests = (results.get("logrank") or {}).get(endpoint) or {}
        sentences = [
            _subgroup_sentence(endpoint, v, t, km.get(endpoint) or {}, labels, alpha, figures)
            for v, t in tests.items()
            if isinstance(t, Mapping)
        ]
        if sentences:
            out.append(" ".join(sentences))
    return out


def _cox_estimate(row: Mapping[str, Any], results: Mapping[str, Any], labels: Labels) -> str:
    """``HR 6.84, 95% CI 1.56–30.03; p = 0.011, Wald test`` (Firth: profile interval)."""
    test = "firth_lr" if row.get("firth") else str(row.get("test") or "Wald")
    test_words = method_words(results, labels, "test", test)
    shown = hr_text(row)
    if row.get("firth"):
        shown = shown.replace("95% CI", "95% profile CI")
    return f"{shown}; {p_text(row.get('p'))}, {test_words}"


def _model_sentences(
    chosen: Sequence[Mapping[str, Any]],
    results: Mapping[str, Any],
    labels: Labels,
    intro: str,
    short: str,
) -> list[str]:
    """What one Cox model shows: significant terms in full, the rest summarised."""
    alpha = float((results.get("methods") or {}).get("alpha", 0.05))
    estimable = [r for r in chosen if r.get("estimable", True) and r.get("hr") is not None]
    significant = [r for r in estimable if r.get("p") is not None and float(r["p"]) < alpha]
    out = []
    if significant:
        items = join_words(
            [
                f"{lc(term_words(r, labels))} with "
                f"{'shorter' if float(r['hr']) > 1 else 'longer'} {short} "
                f"({_cox_estimate(r, results, labels)})"
                for r in significant
            ]
        )
        out.append(f"{intro}, an association was found for {items}.")
        rest = len(estimable) - len(significant)
        if rest:
            out.append(
                f"No other variable was significantly associated with {short} (all p ≥ {alpha})."
            )
    elif estimable:
        out.append(
            f"{intro}, no variable was significantly associated with {short} (all p ≥ {alpha})."
        )
    firth = sorted(
        {variable_words(labels, str(r.get("variable"))) for r in estimable if r.get("firth")}
    )
    if firth:
        out.append(
            f"For {join_words([lc(v) for v in firth])} the partial likelihood was monotone, and "
            "Firth's penalised-likelihood estimates with profile intervals and penalised "
            "likelihood-ratio tests are reported."
        )
    missing = [lc(term_words(r, labels)) for r in chosen if r not in estimable]
    if missing:
        out.append(
            f"No hazard ratio could be estimated for {join_words(missing)} (monotone likelihood)."
        )
    globals_ = {
        str(r.get("variable")): r.get("global_p") for r in chosen if r.get("global_p") is not None
    }
    for variable, gp in globals_.items():
        out.append(
            f"The global likelihood-ratio test for {variable_words(labels, variable)} "
            f"gave {p_text(gp)}."
        )
    return out


def _cox_paragraph(
    results: Mapping[str, Any], labels: Labels, endpoint: str, table_key: str | None
) -> str | None:
    rows = [r for r in cox_rows(results, endpoint) if not r.get("is_reference")]
    if not rows:
        return None
    t = _Text()
    short = endpoint_short(labels, endpoint)
    ties = method_words(results, labels, "cox_ties", rows[0].get("ties") or "efron")
    for model in ("univariable", "multivariable"):
        chosen = [r for r in rows if r.get("model", "univariable") == model]
        if chosen:
            intro = (
                f"In {method_words(results, labels, 'model', model)} Cox regression for "
                f"{short} ({ties})"
            )
            for sentence in _model_sentences(chosen, results, labels, intro, short):
                t.add(sentence)
    for model in (results.get("cox_models") or {}).get(endpoint) or []:
        if model.get("epv_low"):
            epv = model.get("events_per_parameter")
            t.add(
                f"The {method_words(results, labels, 'model', model.get('model'))} model had "
                f"{round_half_up(float(epv), 1) if epv is not None else 'fewer than 10'} "
                "events per parameter (fewer than 10), so its estimates are imprecise."
            )
    if table_key:
        forest = " and {figure:figure6_forest}" if endpoint == "PFSR" else ""
        t.add(f"All estimates are given in {{table:{table_key}}}{forest}.")
    return t.paragraph()


def _safety_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    ae = results.get("adverse_events") or {}
    if not isinstance(ae, Mapping) or not ae:
        return None
    t = _Text()
    for course in ("initial", "rechallenge"):
        rows = [r for r in ae.get(course) or [] if isinstance(r, Mapping)]
        n = int((ae.get("n") or {}).get(course) or 0)
        name = lc(labels.get("course", course))
        if not rows or not n:
            continue
        top = sorted(rows, key=lambda r: -int(r.get("any_grade") or 0))[:3]
        common = join_words(
            [
                f"{lc(str(r['term']))} (n = {int(r['any_grade'])}, "
                f"{round_half_up(100 * int(r['any_grade']) / n, 1)}%)"
                for r in top
            ]
        )
        severe = sum(int(r.get("grade_3_4") or 0) for r in rows)
        deaths = sum(int(r.get("grade_5") or 0) for r in rows)
        t.add(
            f"During the {name} (n = {n}), the most frequent adverse events were {common}; "
            f"{severe} grade 3–4 event{'s' if severe != 1 else ''} and {deaths} grade 5 "
            f"event{'s' if deaths != 1 else ''} were recorded."
        )
    if not t.parts:
        return None
    t.add("Adverse events are listed in {table:adverse}.")
    return t.paragraph()


def results_sections(
    results: Mapping[str, Any],
    labels: Labels,
    tables: Collection[str],
    figures: Collection[str],
) -> list[Section]:
    """The Results subsections, each with the exhibits that belong to it (by key)."""
    out: list[Section] = []
    baseline_key = first_key(tables, "baseline")
    patients = [
        p
        for p in (_selection_paragraph(results, labels), _baseline_paragraph(results, labels))
        if p
    ]
    if patients:
        patients = [p.replace("{table:baseline}", f"{{table:{baseline_key}}}") for p in patients]
        out.append(
            Section(
                "Patients",
                "results-patients",
                tuple(patients),
                (baseline_key,) if baseline_key else (),
                ("flow",),
            )
        )
    efficacy = _efficacy_paragraph(results, labels)
    if efficacy:
        key = first_key(tables, "efficacy")
        out.append(
            Section(
                "Tumour response",
                "results-response",
                (efficacy.replace("{table:efficacy}", f"{{table:{key}}}"),),
                (key,) if key else (),
                ("figure2_waterfall", "figure3_swimmer"),
            )
        )
    survival = _survival_paragraphs(results, labels)
    if survival:
        out.append(
            Section(
                "Survival",
                "results-survival",
                tuple(survival),
                (),
                ("figure1_km_pfs", "figure7_km_os"),
            )
        )
    subgroups = _subgroup_paragraphs(results, labels, figures)
    if subgroups:
        stems = tuple(
            s for s in figures if "_km_" in s and s not in ("figure1_km_pfs", "figure7_km_os")
        )
        out.append(Section("Subgroups", "results-subgroups", tuple(subgroups), (), stems))
    cox = []
    cox_keys = []
    for endpoint in results.get("cox") or {}:
        key = next(
            (k for k in tables if k.startswith("table_cox") and k.endswith(endpoint.lower())), None
        )
        para = _cox_paragraph(results, labels, endpoint, key)
        if para:
            cox.append(para)
            cox_keys += [key] if key else []
    if cox:
        forest = tuple(s for s in figures if "forest" in s)
        out.append(
            Section(
                "Regression analysis", "results-regression", tuple(cox), tuple(cox_keys), forest
            )
        )
    safety = _safety_paragraph(results, labels)
    if safety:
        key = first_key(tables, "adverse")
        out.append(
            Section(
                "Safety",
                "results-safety",
                (safety.replace("{table:adverse}", f"{{table:{key}}}"),),
                (key,) if key else (),
            )
        )
    return out


# --- Methods -------------------------------------------------------------------------------


def _design_paragraphs(
    results: Mapping[str, Any], labels: Labels, tables: Collection[str]
) -> list[str]:
    methods = results.get("methods") or {}
    cohort = results.get("cohort") or {}
    out = []
    criteria = [criterion_words(r, labels) for r in cohort.get("attrition") or []]
    t = _Text()
    t.add(
        "This was a retrospective cohort study of patients with advanced non-small-cell "
        "lung cancer who were rechallenged with an immune checkpoint inhibitor (ICI) after "
        "progression on a first course of PD-(L)1 blockade."
    )
    if criteria:
        t.add(
            "Patients were selected by the following criteria, applied in this order: "
            + "; ".join(c[:1].lower() + c[1:] if c[1:2].islower() else c for c in criteria)
            + "."
        )
    out.append(t.paragraph())
    definition = methods.get("resistance_definition") or (results.get("resistance") or {}).get(
        "definition"
    )
    if definition:
        ref = DEFINITION_REFERENCE.get(str(definition))
        key = first_key(tables, "resistance")
        table = f" The criteria as applied are listed in {{table:{key}}}." if key else ""
        words = method_words(results, labels, "resistance_definition", definition)
        named = ref is not None and CITE[ref].split()[0] in words
        out.append(
            f"Resistance to the first course was classified as {words}"
            f"{' ' + cite(ref) if ref and not named else ''}.{table}"
        )
    return out


def _assessment_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    m = results.get("methods") or {}
    t = _Text()
    if "response_criterion" in m:
        crit = method_words(results, labels, "response_criterion", m["response_criterion"])
        ref = " " + cite("eisenhauer2009") if "recist1.1" in str(m["response_criterion"]) else ""
        t.add(
            f"Tumour response was assessed by {crit}{ref}, reporting the "
            f"{method_words(results, labels, 'bor_confirmation', m.get('bor_confirmation', False))}"
            " for each course; the objective response rate was the proportion of patients "
            "with a complete or partial response, and the disease control rate the "
            "proportion with a complete response, partial response or stable disease."
        )
        sources = [
            int(
                ((results.get("efficacy") or {}).get(c) or {})
                .get("source", {})
                .get("investigator", 0)
                or 0
            )
            for c in ("initial", "rechallenge")
        ]
        if any(sources):
            t.add(
                "Where lesion measurements were incomplete, the investigator's assessment of "
                "response was used; the number of such patients is given per course."
            )
    if "ctcae_version" in m:
        t.add(
            f"Adverse events were graded by "
            f"{method_words(results, labels, 'ctcae_version', m['ctcae_version'])} "
            f"{ctcae_cite(m['ctcae_version'])}, per treatment phase."
        )
    return t.paragraph() or None


def _endpoint_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    m = results.get("methods") or {}
    km = results.get("km") or {}
    present = [e for e in ENDPOINTS if e in km]
    if not present:
        return None
    t = _Text()
    names = join_words([endpoint_long(labels, e) for e in present])
    t.add(f"The time-to-event endpoints were {names}.")
    if "censoring_rule" in m:
        rule = method_words(results, labels, "censoring_rule", m["censoring_rule"])
        t.add(f"Patients without the event were {rule}.")
    if "days_per_month" in m:
        t.add(
            "Durations were counted in whole days and converted to months "
            f"(1 month = {m['days_per_month']} days)."
        )
    return t.paragraph()


def _statistics_paragraphs(results: Mapping[str, Any], labels: Labels) -> list[str]:
    m = results.get("methods") or {}
    out: list[str] = []
    t = _Text()
    if results.get("km") or "km_ci_method" in m:
        ci = method_words(results, labels, "km_ci_method", m.get("km_ci_method", "log"))
        t.add(
            f"Survival was estimated by the Kaplan–Meier method {cite('kaplan1958')} with "
            f"pointwise 95% confidence intervals from {ci}."
        )
        if "median_ci_method" in m:
            mc = method_words(results, labels, "median_ci_method", m["median_ci_method"])
            ref = " " + cite("brookmeyer1982") if "Brookmeyer" in mc else ""
            t.add(f"Confidence intervals for median survival used the {mc}{ref}.")
        marks = join_words([round_half_up(x, 0) for x in LANDMARKS])
        t.add(
            f"Landmark survival rates at {marks} months were read from the Kaplan–Meier "
            "curves; where a curve had reached zero before a landmark the rate is 0, and "
            "after the last follow-up of a curve above zero it is not estimable."
        )
    if isinstance(results.get("follow_up"), Mapping):
        fu = results["follow_up"]
        method = method_words(results, labels, "follow_up", fu.get("method", "reverse_km"))
        t.add(
            f"Median follow-up was estimated by the {method} {cite('schemper1996')}, "
            "in which deaths are censored and censorings are events."
        )
    if results.get("logrank"):
        t.add("Survival was compared between subgroups by the log-rank test.")
    if t.parts:
        out.append(t.paragraph())
    competing = _competing_methods(results, labels)
    if competing:
        out.append(competing)
    cox = _cox_methods(results, labels)
    if cox:
        out.append(cox)
    t = _Text()
    if results.get("efficacy") or "proportion_ci" in m:
        ci = method_words(
            results, labels, "proportion_ci", m.get("proportion_ci", "clopper-pearson")
        )
        ref = " " + cite("clopper1934") if "Clopper" in ci else ""
        t.add(f"Response and disease control rates are given with {ci}{ref}.")
    if "alpha" in m:
        t.add(f"All tests were two-sided at a significance level of {m['alpha']}.")
    if t.parts:
        out.append(t.paragraph())
    return out


def _competing_methods(results: Mapping[str, Any], labels: Labels) -> str | None:
    """The competing-risks analysis in words, when it was run (``competing_risks``)."""
    section = results.get("competing_risks")
    if not isinstance(section, Mapping):
        return None
    m = results.get("methods") or {}
    estimator = method_words(
        results, labels, "competing_risks_method", m.get("competing_risks_method", "aalen_johansen")
    )
    ci = method_words(results, labels, "cif_ci_method", m.get("cif_ci_method", "log-log"))
    times = join_words([f"{float(t):g}" for t in section.get("times_months") or []])
    endpoint = endpoint_short(labels, str(section.get("endpoint", "PFSR")))
    text = (
        f"In a competing-risks analysis of {endpoint}, progression was the event of interest "
        "and death without progression a competing event; the cumulative incidence of each "
        f"was estimated by the {estimator}, with {ci} {cite('pintilie2006')}"
        + (f" at {times} months" if times else "")
        + "."
    )
    if section.get("subgroups"):
        text += (
            " The cumulative incidence of each cause was compared between subgroup levels "
            f"by Gray's test {cite('gray1988')}."
        )
    return text


def _cox_methods(results: Mapping[str, Any], labels: Labels) -> str | None:
    m = results.get("methods") or {}
    every = [r for e in (results.get("cox") or {}) for r in cox_rows(results, e)]
    if not every and "cox_ties" not in m:
        return None
    t = _Text()
    ties = method_words(results, labels, "cox_ties", m.get("cox_ties", "efron"))
    t.add(
        f"Hazard ratios were estimated by Cox proportional-hazards regression "
        f"{cite('cox1972')}, using {ties}, with Wald confidence intervals and Wald tests."
    )
    firth = [r for r in every if r.get("firth") and not r.get("is_reference")]
    firth_ties = sorted({str(r["ties"]) for r in firth if r.get("ties")} - {m.get("cox_ties")})
    firth_ties_words = "".join(f" and {labels.method('cox_ties', tie)}" for tie in firth_ties)
    t.add(
        "Where the partial likelihood was monotone (an estimate diverging to infinity, as "
        "with sparse events), Firth's penalised likelihood was used instead "
        f"{cite('firth1993', 'heinze2001')}, with profile penalised-likelihood confidence "
        f"intervals and penalised likelihood-ratio tests{firth_ties_words}"
        + (
            f"; this applied to {len(firth)} term{'s' if len(firth) != 1 else ''}."
            if firth
            else "."
        )
    )
    if any(r.get("global_p") is not None for r in every):
        t.add(
            "For factors with three or more levels, a global likelihood-ratio test of the "
            "whole variable is reported."
        )
    t.add("Models with fewer than 10 events per estimated parameter are flagged as imprecise.")
    return t.paragraph()


MAPPING_WORDS: dict[str, str] = {
    "dialect": "file dialects",
    "rename": "column renames",
    "value_map": "value maps",
    "date_format": "date formats",
    "decimal": "decimal commas",
}


def _cutoff_sentence(results: Mapping[str, Any]) -> str | None:
    """The declared data cut-off and what it changed (counts only)."""
    cutoff = (results.get("study") or {}).get("cutoff")
    if not isinstance(cutoff, Mapping) or not cutoff.get("date"):
        return None
    rows = sum(int(v) for v in (cutoff.get("rows_excluded") or {}).values())
    deaths = int(cutoff.get("deaths_censored") or 0)
    progressions = int(cutoff.get("progressions_censored") or 0)
    return (
        f"Data were cut off on {cutoff['date']}: {rows} record{'s' if rows != 1 else ''} "
        f"dated after it {'were' if rows != 1 else 'was'} excluded, and {deaths} death"
        f"{'s' if deaths != 1 else ''} and {progressions} progression"
        f"{'s' if progressions != 1 else ''} after it were censored at the cut-off."
    )


def _mappings_sentence(results: Mapping[str, Any]) -> str | None:
    """The declared data mappings applied while reading, counted by kind."""
    applied = (results.get("methods") or {}).get("data_mappings") or []
    counts: dict[str, int] = {}
    for item in applied:
        if isinstance(item, Mapping):
            rule = str(item.get("rule", ""))
            counts[rule] = counts.get(rule, 0) + int(item.get("count") or 0)
    if not counts:
        return None
    parts = [
        f"{MAPPING_WORDS.get(rule, humanise(rule).lower())} ({n})" for rule, n in counts.items()
    ]
    return (
        "Declared data mappings were applied before validation: "
        f"{join_words(parts)}; each is listed in the run log."
    )


def _proxy_sentence(results: Mapping[str, Any], labels: Labels) -> str | None:
    """The progression proxy in words, when the source had no observed progression dates."""
    proxy = (results.get("methods") or {}).get("progression_method")
    if not proxy:
        return None
    words = method_words(results, labels, "progression_method", proxy)
    return (
        f"The data source held no observed progression dates: {words}; endpoints named "
        "progression-free survival in this report are built on that proxy."
    )


def _data_paragraph(results: Mapping[str, Any], labels: Labels) -> str | None:
    dq = results.get("data_quality")
    warnings = results.get("warnings") or []
    t = _Text()
    for sentence in (
        _cutoff_sentence(results),
        _mappings_sentence(results),
        _proxy_sentence(results, labels),
    ):
        if sentence:
            t.add(sentence)
    if isinstance(dq, Mapping):
        imputations = [i for i in dq.get("imputations") or [] if isinstance(i, Mapping)]
        total = sum(int(i.get("count") or 0) for i in imputations)
        if total:
            kinds = join_words(sorted({humanise(i.get("rule", "")).lower() for i in imputations}))
            t.add(
                f"Partial or missing dates were imputed for {total} value"
                f"{'s' if total != 1 else ''} ({kinds}); no other values were imputed."
            )
        else:
            t.add("No values were imputed.")
        by_code = dq.get("warnings_by_code") or {}
        n_warn = sum(int(v) for v in by_code.values())
        if n_warn:
            t.add(
                f"Automated data checks raised {n_warn} warning{'s' if n_warn != 1 else ''} "
                f"of {len(by_code)} kind{'s' if len(by_code) != 1 else ''}; they are "
                "summarised in the Appendix with the completeness of each variable."
            )
    elif warnings:
        t.add(
            f"Automated data checks raised {len(warnings)} warning"
            f"{'s' if len(warnings) != 1 else ''}; they are summarised in the Appendix."
        )
    return t.paragraph() or None


def _software_paragraph(results: Mapping[str, Any]) -> str | None:
    software = (results.get("methods") or {}).get("software")
    if not isinstance(software, Mapping) or not software:
        return None
    names = [f"{name} {version}" for name, version in software.items()]
    return f"Analyses were run with {names[0]}" + (
        f" ({', '.join(names[1:])})." if len(names) > 1 else "."
    )


def methods_sections(
    results: Mapping[str, Any], labels: Labels, tables: Collection[str]
) -> list[Section]:
    """The Methods subsections; every test and interval named in words, with references."""
    out: list[Section] = []
    design = (
        _design_paragraphs(results, labels, tables)
        if (results.get("cohort") or (results.get("methods") or {}).get("resistance_definition"))
        else []
    )
    if design:
        key = first_key(tables, "resistance")
        out.append(
            Section(
                "Study design and patients", "methods-design", tuple(design), (key,) if key else ()
            )
        )
    parts = [
        p
        for p in (_assessment_paragraph(results, labels), _endpoint_paragraph(results, labels))
        if p
    ]
    if parts:
        out.append(Section("Assessments and endpoints", "methods-endpoints", tuple(parts)))
    stats = _statistics_paragraphs(results, labels)
    software = _software_paragraph(results)
    if software:
        stats.append(software)
    if stats:
        out.append(Section("Statistical analysis", "methods-statistics", tuple(stats)))
    prognostic = (results.get("methods") or {}).get("prognostic")
    if isinstance(prognostic, list) and prognostic:
        out.append(
            Section("Prognostic model", "methods-prognostic", tuple(str(p) for p in prognostic))
        )
    data = _data_paragraph(results, labels)
    if data:
        out.append(Section("Data handling", "methods-data", (data,)))
    return out


def methods_text(results: Mapping[str, Any], labels: Labels) -> str:
    """All Methods paragraphs as one string (for tests and quick reading)."""
    sections = methods_sections(results, labels, ())
    return " ".join(p for s in sections for p in s.paragraphs)


def _is_cited(key: str, body: str) -> bool:
    """Whether ``body`` cites ``key``: its author-year, or its first author and its year."""
    short = CITE[key]
    if f"{short})" in body or f"{short};" in body or f"({short}," in body:
        return True
    author, year = short.split()[0].rstrip(","), short.rsplit(" ", 1)[-1]
    return year.isdigit() and f"{author} et al. ({year})" in body


def cited_references(results: Mapping[str, Any]) -> list[str]:
    """The reference list: every work the generated Methods text cites, alphabetically."""
    from rechallenge.labels import labels_from_results

    labels = labels_from_results(results)
    body = methods_text(results, labels)
    keys = [k for k in CITE if _is_cited(k, body)]
    version = str((results.get("methods") or {}).get("ctcae_version", ""))
    out = []
    for key in sorted(keys, key=lambda k: REFERENCES[k]):
        ref = REFERENCES[key]
        if key == "ctcae":
            published = CTCAE_PUBLISHED.get(version)
            ref = ref.format(
                version=version or "as configured", published=f"; {published}" if published else ""
            )
        out.append(ref)
    return out


# --- Abstract ------------------------------------------------------------------------------

PLACEHOLDER_BACKGROUND: Final[str] = (
    "[To be written by the authors: the clinical question and why ICI rechallenge after "
    "acquired resistance matters.]"
)
PLACEHOLDER_CONCLUSIONS: Final[str] = (
    "[To be written by the authors: the interpretation of these results and their limitations.]"
)


def _abstract_methods(results: Mapping[str, Any], labels: Labels) -> str:
    m = results.get("methods") or {}
    t = _Text()
    t.add(
        "Retrospective cohort study of patients with advanced non-small-cell lung cancer "
        "rechallenged with an immune checkpoint inhibitor after progression on PD-(L)1 "
        "blockade."
    )
    if m.get("resistance_definition"):
        t.add(
            "Resistance was classified as "
            f"{method_words(results, labels, 'resistance_definition', m['resistance_definition'])}."
        )
    if m.get("response_criterion"):
        t.add(
            f"Response was assessed by "
            f"{method_words(results, labels, 'response_criterion', m['response_criterion'])}; "
            "survival was estimated by the Kaplan–Meier method and compared by the log-rank "
            "test, and hazard ratios by Cox regression."
        )
    return t.paragraph()


def _abstract_results(results: Mapping[str, Any], labels: Labels) -> str:
    t = _Text()
    cohort = results.get("cohort") or {}
    if cohort:
        t.add(
            f"Of {cohort.get('screened')} patients screened, {cohort.get('included')} were "
            "analysed."
        )
    eff = (results.get("efficacy") or {}).get("rechallenge")
    if isinstance(eff, Mapping):
        n = int(eff.get("n") or 0)
        orr, dcr = eff.get("orr") or {}, eff.get("dcr") or {}
        k_orr = int(orr.get("count", 0))
        k_dcr = int(dcr.get("count", 0))
        t.add(
            f"On rechallenge, the objective response rate was {count_ci(k_orr, n, orr)} "
            f"and the disease control rate {count_ci(k_dcr, n, dcr)}."
        )
    km = results.get("km") or {}
    for endpoint in ("PFSR", "OS"):
        curve = (km.get(endpoint) or {}).get("all")
        if isinstance(curve, Mapping):
            t.add(survival_sentence(endpoint, curve, labels).split(", with")[0] + ".")
    fu = follow_up_sentence(results, labels)
    t.add(fu)
    return t.paragraph() or "[No results were available.]"


def abstract(results: Mapping[str, Any], labels: Labels) -> tuple[tuple[str, str, bool], ...]:
    """Background, Methods, Results and Conclusions; the first and last are placeholders."""
    return (
        ("Background", PLACEHOLDER_BACKGROUND, True),
        ("Methods", _abstract_methods(results, labels), False),
        ("Results", _abstract_results(results, labels), False),
        ("Conclusions", PLACEHOLDER_CONCLUSIONS, True),
    )


def key_findings(results: Mapping[str, Any], labels: Labels) -> str:
    """The abstract's Results as one paragraph, for the top of the report."""
    return _abstract_results(results, labels)


# --- captions ------------------------------------------------------------------------------


def _km_band(results: Mapping[str, Any], labels: Labels) -> str:
    m = results.get("methods") or {}
    return method_words(results, labels, "km_ci_method", m.get("km_ci_method", "log"))


def figure_caption(stem: str, results: Mapping[str, Any], labels: Labels) -> str | None:
    """The journal caption of a known figure stem (methods named), else None."""
    band = _km_band(results, labels)
    ticks = "tick marks, censored observations; numbers at risk below the plot"
    m = results.get("methods") or {}
    layout = figure_style(results)
    if stem == "flow":
        return (
            "Patient selection: patients screened, excluded at each criterion (with the "
            "reason and number) and analysed."
        )
    if stem == "figure1_km_pfs":
        return (
            f"Kaplan–Meier estimates of {endpoint_long(labels, 'PFS1')} and "
            f"{endpoint_long(labels, 'PFSR')}; shaded bands, pointwise 95% confidence "
            f"intervals ({band}); {ticks}."
        )
    if stem == "figure7_km_os":
        return (
            f"Kaplan–Meier estimate of {endpoint_long(labels, 'OS')}; shaded band, "
            f"pointwise 95% confidence interval ({band}); {ticks}."
        )
    if "_km_" in stem:
        variable = next(
            (
                v
                for v in ((results.get("logrank") or {}).get("PFSR") or {})
                if v.split("_")[0] in stem
            ),
            None,
        )
        by = f" by {variable_words(labels, variable)}" if variable else " by subgroup"
        return (
            f"Kaplan–Meier estimates of {endpoint_long(labels, 'PFSR')}{by}; {ticks}; "
            "p, log-rank test; HR, hazard ratio from univariable Cox regression with its "
            "95% confidence interval."
        )
    if stem == "figure6_forest":
        ties = method_words(results, labels, "cox_ties", m.get("cox_ties", "efron"))
        return (
            f"Hazard ratios for {endpoint_short(labels, 'PFSR')} with 95% confidence "
            f"intervals from Cox proportional-hazards regression ({ties}); reference "
            "levels are shown without an estimate; where the likelihood was monotone, "
            "Firth's penalised-likelihood estimate with its profile interval is shown; "
            "logarithmic axis."
        )
    if "waterfall" in stem:
        crit = method_words(
            results, labels, "response_criterion", m.get("response_criterion", "recist1.1")
        )
        order = (
            "patients in one order in both panels, sorted by the change on rechallenge; "
            if layout.waterfall == "paired"
            else "each course sorted on its own; "
        )
        return (
            "Best percentage change from baseline in the sum of target-lesion diameters, "
            f"per patient, on the first ICI course and on rechallenge ({crit}); {order}bar "
            "colour, best overall response; symbols on bars mark progression by a new lesion "
            "or by non-target disease; dashed lines, +20% and −30%."
        )
    if "swimmer" in stem:
        if layout.swimmer == "pfs":
            return (
                "Progression-free survival per patient: one lane from the start of the first "
                "ICI course (PFS1) and one from the start of rechallenge (PFSR), each ending at "
                "progression or death, or at censoring; symbols as shown in the key."
            )
        return (
            "Treatment exposure per patient, one lane across the first ICI course, the "
            "intervening therapy and ICI rechallenge, from the first ICI dose; symbols for "
            "response, progression, death and ongoing follow-up as shown in the key."
        )
    return None


# --- data completeness (appendix) ----------------------------------------------------------


def completeness_table(results: Mapping[str, Any]) -> Table | None:
    """CONSORT-like data completeness per variable, from ``data_quality.completeness``."""
    dq = results.get("data_quality")
    rows = dq.get("completeness") if isinstance(dq, Mapping) else None
    if not rows:
        return None
    body = []
    for r in rows:
        label = str(r.get("label") or humanise(r.get("variable", "")))
        body.append(
            data_row(
                label,
                humanise(r.get("table", "")),
                *(
                    Cell.number(int(r.get(k) or 0))
                    for k in ("n", "missing", "imputed", "derived", "investigator")
                ),
            )
        )
    return Table(
        id="table_completeness",
        title="Completeness of the data, per variable",
        columns=(
            "Variable",
            "Source",
            "Records",
            "Missing",
            "Imputed",
            "Derived by rule",
            "From investigator",
        ),
        rows=tuple(body),
        align=("left", "left", "center", "center", "center", "center", "center"),
    ).with_footnotes(
        "Records, values present in the source data; imputed, filled by a configured "
        "imputation rule; derived by rule, computed from other fields (e.g. response from "
        "lesion measurements); from investigator, taken from the investigator's assessment.",
    )


def warning_summary(results: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(description in words, count) per kind of data-quality warning; no codes, no rows."""
    dq = results.get("data_quality")
    counts: dict[str, int] = {}
    if isinstance(dq, Mapping) and dq.get("warnings_by_code"):
        counts = {str(k): int(v) for k, v in dq["warnings_by_code"].items()}
    else:
        for w in results.get("warnings") or []:
            code = str(w.get("code", "")) if isinstance(w, Mapping) else ""
            counts[code] = counts.get(code, 0) + 1
    return [(warning_words(code), n) for code, n in counts.items()]


def warnings_table(results: Mapping[str, Any]) -> Table | None:
    """Data-quality warnings counted per kind (no codes, no rows, no patients)."""
    kinds = warning_summary(results)
    if not kinds:
        return None
    return Table(
        id="table_warnings",
        title="Data-quality warnings raised by the automated checks, by kind",
        columns=("Kind of warning", "Count"),
        rows=tuple(data_row(kind, Cell.number(n)) for kind, n in kinds),
    ).with_footnotes(
        "Each warning, with the source file and row it concerns, is written to the run log.",
    )


def warning_words(code: str) -> str:
    """``RECIST-NO_FOLLOW_UP`` -> ``RECIST: no follow up`` (a readable heading, no code)."""
    domain, _, rest = code.partition("-")
    if not rest:
        return humanise(code.lower()) or "Unclassified"
    words = rest.replace("_", " ").replace("-", " ").lower()
    return f"{domain.upper() if len(domain) <= 6 else humanise(domain.lower())}: {words}"


def plain(text: str) -> str:
    """A message with its leading ``[CODE]`` removed and underscores in words spaced out."""
    import re

    text = re.sub(r"^\s*\[[^\]]+\]\s*", "", text)
    return re.sub(r"(?<=\w)_(?=\w)", " ", text)


def words_of(values: Iterable[Any]) -> str:
    """A list of configuration values in words."""
    return ", ".join(humanise(v) if isinstance(v, str) else str(v) for v in values)


__all__ = [
    "REFERENCES",
    "Section",
    "abstract",
    "cited_references",
    "completeness_table",
    "figure_caption",
    "follow_up_sentence",
    "key_findings",
    "methods_sections",
    "methods_text",
    "plain",
    "results_sections",
    "survival_sentence",
    "warning_summary",
    "warning_words",
    "words_of",
]
