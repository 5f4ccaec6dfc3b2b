"""The study's competing-risks section against R cmprsk 2.2 (tests/reference/competing_study.R).

The fixture's data are the example cohort's PFSR rows (tests/reference/data/competing_study.csv,
written by tests/reference/export_competing_study.py); ``status_mixed`` recodes every third
event as a death without progression so the second cause and its Gray's test are checked too.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.reference.competing_data import DATA, enabled, survival_rows

from rechallenge.analysis.competing import competing_section, competing_status, log_log_ci
from rechallenge.config import StudyConfig

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference"
FIXTURE = json.loads((REF / "fixtures" / "competing_study.json").read_text(encoding="utf-8"))
CAUSE_KEYS = {"1": "progression", "2": "death"}
TOL = 1e-6


def _r_step(curve: dict[str, Any], t: float) -> tuple[float, float]:
    """cmprsk's step function (corner vectors) at ``t``: the last corner at or before it."""
    times = np.asarray(curve["time"], dtype=float)
    i = int(np.flatnonzero(times <= t)[-1])
    return float(curve["est"][i]), float(curve["var"][i])


def _ours(section: dict[str, Any], group: str | None, level: str) -> dict[str, Any]:
    if group is None:
        block: dict[str, Any] = section["overall"]
        return block
    out: dict[str, Any] = section["subgroups"][group]["levels"][level]
    return out


def _approx(ours: Any, theirs: Any) -> bool:
    if theirs is None:
        return ours is None
    return ours is not None and abs(float(ours) - float(theirs)) < TOL


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=lambda c: f"{c['status']}-{c['group']}")
def test_section_matches_cmprsk(case: dict[str, Any]) -> None:
    section = competing_section(survival_rows(DATA[case["status"]].to_numpy()), enabled())
    assert section is not None
    for curve in case["curves"]:
        level, cause = curve["name"].rsplit(" ", 1)
        block = _ours(section, case["group"], level)["curves"][CAUSE_KEYS[cause]]
        for row, est, var, lo, hi in zip(
            block["at_times"],
            curve["at_est"],
            curve["at_var"],
            curve["at_lower"],
            curve["at_upper"],
            strict=True,
        ):
            assert _approx(row["cif"], est) and _approx(row["variance"], var), curve["name"]
            assert _approx(row["lower"], lo) and _approx(row["upper"], hi), curve["name"]
            assert row["estimable"] is (est is not None)
        steps = block["steps"]
        for t, cif, v in zip(steps["time_months"], steps["cif"], steps["variance"], strict=True):
            r_est, r_var = _r_step(curve, t * section["days_per_month"] + 1e-9)
            assert abs(cif - r_est) < TOL and abs(v - r_var) < TOL, (curve["name"], t)
    if case["group"] is not None:
        gray = {g["cause"]: g for g in section["subgroups"][case["group"]]["gray"]}
        for cause, stat, p, df in zip(
            case["tests"]["cause"],
            case["tests"]["stat"],
            case["tests"]["p"],
            case["tests"]["df"],
            strict=True,
        ):
            ours = gray[CAUSE_KEYS[cause]]
            assert ours["stat"] == pytest.approx(stat, abs=TOL)
            assert ours["p"] == pytest.approx(p, abs=TOL)
            assert ours["df"] == df


def test_cause_without_events_is_flat_zero_and_untested() -> None:
    """The example cohort has no death without progression on PFSR: a flat curve, no test."""
    section = competing_section(survival_rows(DATA["status"].to_numpy()), enabled())
    assert section is not None
    assert section["events"] == {"progression": 11, "death": 0}
    death = section["overall"]["curves"]["death"]
    assert set(death["steps"]["cif"]) == {0.0}
    assert all(r["cif"] == 0.0 and r["lower"] is None for r in death["at_times"])
    (test,) = [g for g in section["subgroups"]["ecog_group"]["gray"] if g["cause"] == "death"]
    assert test["stat"] is None and test["p"] is None and test["note"] == "no events"


def test_level_without_events_and_no_events_at_all() -> None:
    status = DATA["status_mixed"].to_numpy().copy()
    status[(DATA["pdl1"] == "negative").to_numpy()] = 0  # a level with every patient censored
    section = competing_section(survival_rows(status), enabled())
    assert section is not None
    negative = section["subgroups"]["pdl1"]["levels"]["negative"]
    assert negative["events"] == {"progression": 0, "death": 0}
    assert all(set(c["steps"]["cif"]) == {0.0} for c in negative["curves"].values())
    assert all(g["df"] == 1 for g in section["subgroups"]["pdl1"]["gray"])
    none = competing_section(survival_rows(np.zeros(len(DATA), dtype=int)), enabled())
    assert none is not None and none["events"] == {"progression": 0, "death": 0}
    assert all(g["note"] == "no events" for g in none["subgroups"]["ecog_group"]["gray"])


def test_a_subgroup_with_one_level_has_no_test() -> None:
    frame = DATA[DATA["ecog_group"] == "0-1"]
    section = competing_section(survival_rows(frame["status"].to_numpy(), frame), enabled())
    assert section is not None
    assert section["subgroups"]["ecog_group"]["error"] == "fewer than two groups with data"
    assert "gray" in section["subgroups"]["pdl1"]


def test_risk_table_counts_the_patients_still_followed() -> None:
    section = competing_section(survival_rows(DATA["status_mixed"].to_numpy()), enabled())
    assert section is not None
    rt = section["overall"]["risk_table"]
    days = DATA["time"].to_numpy()
    dpm = section["days_per_month"]
    assert rt["n_risk"] == [int((days >= t * dpm).sum()) for t in rt["time_months"]]
    assert rt["n_risk"][0] == len(DATA) and rt["time_months"][:3] == [0.0, 3.0, 6.0]
    assert rt["cum_events"]["death"][-1] == section["events"]["death"] == 3


def test_off_unset_or_disabled() -> None:
    rows = survival_rows(DATA["status"].to_numpy())
    assert competing_section(rows, StudyConfig()) is None
    assert competing_section(rows, enabled(enabled=False)) is None
    no_subgroups = competing_section(rows, enabled(by_subgroups=False, times_months=[3, 3, 1]))
    assert no_subgroups is not None and "subgroups" not in no_subgroups
    assert no_subgroups["times_months"] == [1.0, 3.0]


def test_status_from_endpoint_rows() -> None:
    rows = survival_rows(np.array([0, 1, 2]), DATA.head(3))
    assert competing_status(rows).tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("cif", "var", "expected"),
    [
        (0.0, 0.0, (None, None)),  # undefined at 0 and 1
        (1.0, 0.0, (None, None)),
        (0.5, 0.0, (0.5, 0.5)),  # no variance: the point itself
    ],
)
def test_log_log_ci_edges(cif: float, var: float, expected: tuple[Any, Any]) -> None:
    assert log_log_ci(cif, var, 1.96) == expected


def _load_export() -> Any:
    spec = importlib.util.spec_from_file_location("export_cs", REF / "export_competing_study.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exported_data_are_the_example_cohorts() -> None:
    """The fixture's CSV is what the export script derives from examples/seed_cohort today."""
    fresh = _load_export().competing_frame()
    pd.testing.assert_frame_equal(
        fresh.reset_index(drop=True), DATA, check_dtype=False, check_column_type=False
    )


@pytest.fixture(scope="module")
def example_runs() -> tuple[dict[str, Any], dict[str, Any]]:
    """The example cohort's full results, with the defaults and with the analysis on."""
    from rechallenge.pipeline import analyse_study, build_results, load_validated

    out = []
    for config in (StudyConfig(), enabled()):
        study = load_validated(ROOT / "examples" / "seed_cohort", config)
        out.append(build_results(analyse_study(study, config), config, show_ids=False))
    return out[0], out[1]


def test_example_cohort_off_by_default(example_runs: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Unset, the results and the recorded configuration carry no trace of the analysis."""
    default, on = example_runs
    assert "competing_risks" not in default
    assert "competing_risks" not in default["manifest"]["config"]["statistics"]
    assert not any("compet" in k or "cif" in k for k in default["methods"])
    assert on["manifest"]["config"]["statistics"]["competing_risks"]["endpoint"] == "PFSR"
    same = set(default) - {"methods", "manifest"}
    assert {k: on[k] for k in same} == {k: default[k] for k in same}
    assert set(on) - set(default) == {"competing_risks"}


def test_example_cohort_section_is_the_fixtures(
    example_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """The pipeline's section on the example cohort equals the one checked against R above."""
    section = example_runs[1]["competing_risks"]
    expected = competing_section(survival_rows(DATA["status"].to_numpy()), enabled())
    assert section == expected
    text = example_runs[1]["methods"]["methods_text"]
    assert text["competing_test"] == "Gray's test"
    assert "log(−log)" in text["cif_ci_method"]
