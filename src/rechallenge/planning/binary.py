"""Single-arm designs for a response rate: Simon's two-stage and A'Hern's single-stage.

Both test ``H0: p <= p0`` against ``H1: p >= p1`` with exact binomial probabilities;
``alpha`` is one-sided, as in Simon (1989) and A'Hern (2001).

**Simon two-stage** (Simon 1989). Enrol ``n1``; stop for futility if responses ``<= r1``;
otherwise enrol to ``n`` and reject ``H0`` if total responses ``> r``. The search:

1. for every ``n`` up to ``nmax`` and every ``1 <= n1 < n``, the probability of rejecting
   ``H0`` is ``sum_{x1 > r1} P(X1 = x1) P(X2 > r - x1)`` (``X1 ~ Bin(n1, p)``,
   ``X2 ~ Bin(n - n1, p)``), computed for all ``0 <= r1 < n1`` and ``r1 <= r < n`` at once;
2. a design is admissible when that probability is ``<= alpha`` at ``p0`` and
   ``>= power`` at ``p1``;
3. *optimal*: the admissible design with the smallest expected sample size under ``H0``,
   ``EN0 = n1 + (1 - PET0)(n - n1)``, ``PET0 = P(X1 <= r1 | p0)``; *minimax*: the smallest
   ``n``, then the smallest ``EN0``. Remaining ties go to the smaller ``n``, then ``n1``.

**A'Hern single-stage** (A'Hern 2001): the smallest ``n`` with a cut-off such that
``P(X > r | p0) <= alpha`` and ``P(X > r | p1) >= power``; reject when responses ``> r``
(A'Hern writes the cut-off as ``r + 1`` responses or more, given as ``responses_needed``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import binom

EPS = 1e-12


def _check(p0: float, p1: float, alpha: float, power: float, nmax: int) -> None:
    if not 0.0 <= p0 < p1 <= 1.0:
        raise ValueError(f"need 0 <= p0 < p1 <= 1, got p0={p0}, p1={p1}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    if nmax < 2:
        raise ValueError(f"nmax must be >= 2, got {nmax}")


@dataclass(frozen=True)
class SimonDesign:
    """One two-stage design and its operating characteristics."""

    r1: int
    n1: int
    r: int
    n: int
    en0: float
    pet0: float
    alpha_actual: float
    power_actual: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (``*_actual``: the design's exact error rates)."""
        return asdict(self)


@dataclass(frozen=True)
class SimonResult:
    """Optimal and minimax designs (``None`` when no design fits within ``nmax``)."""

    p0: float
    p1: float
    alpha: float
    power: float
    nmax: int
    optimal: SimonDesign | None
    minimax: SimonDesign | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


class _Tables:
    """Binomial pmf and survival tables for every size up to ``nmax`` at one ``p``.

    ``pmf[m, x] = P(Bin(m, p) = x)`` and ``sf[m, k + 1] = P(Bin(m, p) > k)`` for
    ``k = -1..nmax`` (``sf[m, 0] = 1``), so the search only indexes arrays.
    """

    def __init__(self, nmax: int, p: float) -> None:
        m = np.arange(nmax + 1)[:, None]
        x = np.arange(nmax + 1)[None, :]
        self.pmf = binom.pmf(x, m, p)
        self.sf = np.hstack([np.ones((nmax + 1, 1)), binom.sf(x, m, p)])
        self.cdf = binom.cdf(x, m, p)

    def reject(self, n1: int, n: int) -> np.ndarray:
        """``R[r1, r] = P(X1 > r1 and X1 + X2 > r)`` for ``r1 in 0..n1``, ``r in 0..n``."""
        x1 = np.arange(n1 + 1)
        k = np.arange(n + 1)[None, :] - x1[:, None]  # stage two must exceed r - x1
        sf2 = self.sf[n - n1][np.clip(k, -1, None) + 1]
        contrib = self.pmf[n1, : n1 + 1][:, None] * sf2  # [x1, r]
        tail = np.cumsum(contrib[::-1], axis=0)[::-1]  # sum over x1 >= row
        out = np.zeros_like(contrib)
        out[:-1] = tail[1:]  # sum over x1 > r1
        return out


Candidate = tuple[float, int, int, int, int, float, float, float]


def _best_for(
    n1: int, n: int, t0: _Tables, t1: _Tables, alpha: float, power: float
) -> Candidate | None:
    """Admissible ``(en0, n, n1, r1, r, pet0, alpha, power)`` of one ``(n1, n)`` pair with the
    smallest ``EN0`` (ties: smaller ``r1``, then smaller ``r``), or ``None``."""
    a = t0.reject(n1, n)
    b = t1.reject(n1, n)
    ok = (a <= alpha + EPS) & (b >= power - EPS)
    ok[n1:, :] = False  # r1 < n1
    ok[:, n:] = False  # r < n
    ok &= np.arange(n + 1)[None, :] >= np.arange(n1 + 1)[:, None]  # r >= r1
    r1_idx, r_idx = np.nonzero(ok)  # row-major: sorted by r1, then r
    if r1_idx.size == 0:
        return None
    pet = t0.cdf[n1, r1_idx]
    en0 = n1 + (1.0 - pet) * (n - n1)
    i = int(np.argmin(np.round(en0, 10)))
    r1, r = int(r1_idx[i]), int(r_idx[i])
    return (float(en0[i]), n, n1, r1, r, float(pet[i]), float(a[r1, r]), float(b[r1, r]))


def simon_two_stage(
    p0: float, p1: float, *, alpha: float = 0.05, power: float = 0.8, nmax: int = 100
) -> SimonResult:
    """Simon's (1989) optimal and minimax two-stage designs with ``n <= nmax``."""
    _check(p0, p1, alpha, power, nmax)
    t0, t1 = _Tables(nmax, p0), _Tables(nmax, p1)
    best_opt: Candidate | None = None
    best_mm: Candidate | None = None
    for n in range(2, nmax + 1):
        for n1 in range(1, n):
            cand = _best_for(n1, n, t0, t1, alpha, power)
            if cand is not None:
                key_opt = (round(cand[0], 10), cand[1], cand[2])
                if best_opt is None or key_opt < (round(best_opt[0], 10), best_opt[1], best_opt[2]):
                    best_opt = cand
                key_mm = (cand[1], round(cand[0], 10), cand[2])
                if best_mm is None or key_mm < (best_mm[1], round(best_mm[0], 10), best_mm[2]):
                    best_mm = cand
    return SimonResult(p0, p1, alpha, power, nmax, _design(best_opt), _design(best_mm))


def _design(c: Candidate | None) -> SimonDesign | None:
    if c is None:
        return None
    en0, n, n1, r1, r, pet0, a, b = c
    return SimonDesign(r1=r1, n1=n1, r=r, n=n, en0=en0, pet0=pet0, alpha_actual=a, power_actual=b)


def simon_characteristics(r1: int, n1: int, r: int, n: int, p: float) -> tuple[float, float, float]:
    """``(P(reject H0), PET, EN)`` of a given two-stage design at response rate ``p``."""
    if not (0 <= r1 < n1 < n and r1 <= r < n):
        raise ValueError("need 0 <= r1 < n1 < n and r1 <= r < n")
    reject = float(_Tables(n, p).reject(n1, n)[r1, r])
    pet = float(binom.cdf(r1, n1, p))
    return reject, pet, n1 + (1.0 - pet) * (n - n1)


@dataclass(frozen=True)
class SingleStageResult:
    """A'Hern's exact single-stage design."""

    p0: float
    p1: float
    alpha: float
    power: float
    n: int
    r: int
    responses_needed: int
    alpha_actual: float
    power_actual: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


def ahern_single_stage(
    p0: float, p1: float, *, alpha: float = 0.05, power: float = 0.8, nmax: int = 1000
) -> SingleStageResult:
    """Smallest exact single-stage design (A'Hern 2001); ``ValueError`` if none to ``nmax``."""
    _check(p0, p1, alpha, power, nmax)
    for n in range(1, nmax + 1):
        r = np.arange(n + 1)
        a = binom.sf(r, n, p0)
        ok = np.nonzero(a <= alpha + EPS)[0]
        if ok.size == 0:
            continue
        cut = int(ok[0])  # the smallest cut-off keeping alpha gives the most power
        b = float(binom.sf(cut, n, p1))
        if b >= power - EPS and cut < n:
            return SingleStageResult(p0, p1, alpha, power, n, cut, cut + 1, float(a[cut]), b)
    raise ValueError(f"no single-stage design with n <= {nmax}")
