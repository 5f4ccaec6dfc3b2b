"""The methods of a run in words, for the report's Methods section and the manuscript.

`methods_text` turns the settings of ``results["methods"]`` into the catalogue's wording
(`rechallenge.labels`), so no setting code reaches a reader; it also names the tests and
estimators every run uses (log-rank, Wald and likelihood-ratio tests, Firth's penalised
likelihood, reverse Kaplan–Meier follow-up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rechallenge.labels import Labels

if TYPE_CHECKING:
    from rechallenge.analysis.prognostic_settings import PrognosticSettings

#: settings of results["methods"] that are not methods (or are worded below)
NOT_WORDED = frozenset({"software", "methods_text", "alpha", "days_per_month"})
#: methods every run uses, as (key, catalogue setting, value)
ALWAYS = (
    ("follow_up", "follow_up", "reverse_km"),
    ("logrank_test", "test", "logrank"),
    ("cox_test", "test", "Wald"),
    ("global_test", "test", "LR"),
    ("firth_test", "test", "firth_lr"),
    ("cox_ci", "ci_method", "wald"),
    ("firth_ci", "ci_method", "profile"),
)


def methods_text(methods: Mapping[str, Any], labels: Labels) -> dict[str, str]:
    """Setting -> human wording, e.g. ``"km_ci_method": "log-transformed Greenwood intervals"``.

    1. Every setting of `methods` with a code value is worded by ``labels.method``.
    2. ``alpha`` and ``days_per_month`` are numbers and are written out.
    3. The methods every run uses (`ALWAYS`) are added under their own keys.
    """
    out: dict[str, str] = {}
    for setting, value in methods.items():
        if setting in NOT_WORDED or isinstance(value, (dict, list)) or value is None:
            continue
        out[setting] = labels.method(setting, value)
    if "alpha" in methods:
        level = 100 * (1 - float(methods["alpha"]))
        out["alpha"] = (
            f"two-sided significance level {float(methods['alpha']):g}; "
            f"{level:g}% confidence intervals"
        )
    if "days_per_month" in methods:
        out["days_per_month"] = f"1 month = {float(methods['days_per_month']):g} days"
    for key, setting, value in ALWAYS:
        out[key] = labels.method(setting, value)
    return out


def join(words: Iterable[str]) -> str:
    """``a, b and c``."""
    items = list(words)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def prognostic_methods(settings: PrognosticSettings, labels: Labels) -> list[str]:
    """Methods sentences of the prognostic model: the marker rules, the model, validation.

    The marker rules are those of `derive.markers.marker_methods`; the model and the
    validation are worded from the settings (endpoint, covariates, splines, EPV guard,
    times, bootstrap resamples and seed, penalty).
    """
    from rechallenge.derive.markers import marker_methods

    endpoint = {"PFSR": "progression-free survival on rechallenge", "OS": "overall survival"}

    def words(name: str) -> str:
        return labels.variable(name).split(",")[0]

    splines = (
        " Restricted cubic splines (knots at the default quantiles of R rms::rcs) modelled "
        + ", ".join(f"{words(name)} ({k} knots)" for name, k in settings.splines.items())
        + "."
        if settings.splines
        else ""
    )
    vs = settings.validation
    times = join(f"{t:g}" for t in vs.times_months)
    out = [
        *marker_methods(settings.markers),
        "A multivariable Cox proportional-hazards model (Efron ties) of "
        f"{endpoint[settings.endpoint]} was fitted on the patients with every covariate "
        "recorded (complete cases; the others are counted), with "
        f"{join(words(c) for c in settings.covariates)} as covariates; categorical "
        f"covariates entered as indicators against their reference level.{splines} The "
        "events per model degree of freedom were compared with "
        f"{settings.min_epv:g} (Peduzzi et al., 1995); below it a warning is given. A "
        "diverging coefficient (monotone likelihood) switched the model to Firth's "
        "penalised likelihood (Firth, 1993; Heinze and Schemper, 2001). The model was "
        f"fitted when at least {settings.min_n} patients were analysed.",
        "Discrimination was summarised by Harrell's and Uno's concordance (C) (Harrell et al., "
        "1996; Uno et al., 2011) and the "
        f"time-dependent area under the ROC curve at {times} months (inverse-probability-of-"
        "censoring weights); calibration by the calibration slope and by predicted against "
        f"Kaplan–Meier survival in {vs.groups} groups of predicted risk. "
        + (
            f"Optimism in C, Somers' Dxy and the slope was estimated from {vs.bootstrap} "
            f"bootstrap resamples (seed {vs.seed}) and subtracted (Harrell's method, as rms "
            "validate)."
            if vs.bootstrap
            else "No bootstrap optimism correction was made."
        ),
    ]
    if settings.penalty.method != "none":
        p = settings.penalty
        out.append(
            f"A penalised Cox model ({p.method.replace('_', ' ')}, glmnet alpha "
            f"{p.mixing():g}, covariates standardised) was fitted along a path of "
            f"{p.nlambda} λ values with λ chosen by {p.nfolds}-fold cross-validated "
            f"partial-likelihood deviance (folds seeded {p.seed}) (Simon et al., 2011)."
        )
    return out
