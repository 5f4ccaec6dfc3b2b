"""Simon two-stage and A'Hern single-stage designs against Simon (1989) Tables 1–2 and
base-R sums (fixture written by tests/reference/planning.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rechallenge.planning.binary import (
    ahern_single_stage,
    simon_characteristics,
    simon_two_stage,
)

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "plan_reference.json"
REF: dict[str, Any] = json.loads(FIXTURE.read_text())

# Simon (1989), Tables 1 and 2 as printed: (p0, p1, alpha, power) ->
# optimal (r1/n1, r/n, EN0, PET0), minimax (r1/n1, r/n, EN0, PET0)
PUBLISHED = [
    ((0.05, 0.25, 0.05, 0.8), (0, 9, 2, 17, 12.0, 0.63), (0, 12, 2, 16, 13.8, 0.54)),
    ((0.10, 0.30, 0.05, 0.8), (1, 10, 5, 29, 15.0, 0.74), (1, 15, 5, 25, 19.5, 0.55)),
    ((0.20, 0.40, 0.05, 0.8), (3, 13, 12, 43, 20.6, 0.75), (4, 18, 10, 33, 22.3, 0.72)),
    ((0.30, 0.50, 0.05, 0.8), (5, 15, 18, 46, 23.6, 0.72), (6, 19, 16, 39, 25.7, 0.67)),
    ((0.05, 0.25, 0.05, 0.9), (0, 9, 3, 30, 16.8, 0.63), (0, 15, 3, 25, 20.4, 0.46)),
    ((0.20, 0.40, 0.05, 0.9), (4, 19, 15, 54, 30.4, 0.67), (5, 24, 13, 45, 31.2, 0.66)),
    ((0.10, 0.30, 0.10, 0.9), (1, 12, 5, 35, 19.8, 0.66), (1, 16, 4, 25, 20.4, 0.51)),
]


@pytest.mark.parametrize(("args", "optimal", "minimax"), PUBLISHED, ids=lambda a: str(a))
def test_simon_1989_tables(
    args: tuple[float, float, float, float],
    optimal: tuple[int, int, int, int, float, float],
    minimax: tuple[int, int, int, int, float, float],
) -> None:
    p0, p1, alpha, power = args
    res = simon_two_stage(p0, p1, alpha=alpha, power=power, nmax=60)
    for got, want in ((res.optimal, optimal), (res.minimax, minimax)):
        assert got is not None
        assert (got.r1, got.n1, got.r, got.n) == want[:4]
        assert round(got.en0, 1) == want[4]
        assert round(got.pet0, 2) == want[5]
        assert got.alpha_actual <= alpha and got.power_actual >= power


@pytest.mark.parametrize("case", REF["simon"], ids=lambda c: f"{c['p0']}-{c['p1']}-{c['power']}")
def test_simon_characteristics_match_r(case: dict[str, Any]) -> None:
    for kind in ("optimal", "minimax"):
        d = case[kind]
        a, pet, en = simon_characteristics(d["r1"], d["n1"], d["r"], d["n"], case["p0"])
        b, _, _ = simon_characteristics(d["r1"], d["n1"], d["r"], d["n"], case["p1"])
        assert a == pytest.approx(d["alpha_actual"], rel=1e-10)
        assert b == pytest.approx(d["power_actual"], rel=1e-10)
        assert pet == pytest.approx(d["pet0"], rel=1e-12)
        assert en == pytest.approx(d["en0"], rel=1e-12)


def test_simon_none_within_nmax() -> None:
    res = simon_two_stage(0.05, 0.25, nmax=10)
    assert res.optimal is None and res.minimax is None
    assert res.to_dict()["optimal"] is None


@pytest.mark.parametrize("case", REF["ahern"], ids=lambda c: f"{c['p0']}-{c['p1']}")
def test_ahern_matches_r_brute_force(case: dict[str, Any]) -> None:
    res = ahern_single_stage(case["p0"], case["p1"], alpha=case["alpha"], power=case["power"])
    assert (res.n, res.r, res.responses_needed) == (case["n"], case["r"], case["r"] + 1)
    assert res.alpha_actual == pytest.approx(case["alpha_actual"], rel=1e-10)
    assert res.power_actual == pytest.approx(case["power_actual"], rel=1e-10)


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="p0 < p1"):
        simon_two_stage(0.3, 0.2)
    with pytest.raises(ValueError, match="no single-stage design"):
        ahern_single_stage(0.05, 0.06, nmax=20)
    with pytest.raises(ValueError, match="r1 < n1"):
        simon_characteristics(3, 3, 4, 10, 0.1)
