"""Bjøntegaard delta rate: average bit-rate difference at equal quality between two RD curves.

Interpolation: log-rate as a piecewise cubic Hermite (PCHIP) function of quality, integrated
over the overlapping quality range (the method of the common ``bjontegaard`` tools).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

METHOD = "pchip interpolation of log10(bpp) over quality, integrated on the overlapping quality range"


def _curve(rates: Sequence[float], quality: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    q = np.asarray(quality, dtype=np.float64)
    r = np.log10(np.asarray(rates, dtype=np.float64))
    order = np.argsort(q)
    q, r = q[order], r[order]
    keep = np.diff(q, prepend=-np.inf) > 0  # PCHIP needs strictly increasing quality
    return q[keep], r[keep]


def bd_rate(
    anchor_rates: Sequence[float],
    anchor_quality: Sequence[float],
    test_rates: Sequence[float],
    test_quality: Sequence[float],
) -> float:
    """BD-rate of ``test`` against ``anchor`` in percent (negative: fewer bits for the same quality).

    >>> round(bd_rate([1, 2, 4, 8], [30, 33, 36, 39], [0.5, 1, 2, 4], [30, 33, 36, 39]), 6)
    -50.0
    """
    qa, ra = _curve(anchor_rates, anchor_quality)
    qt, rt = _curve(test_rates, test_quality)
    if len(qa) < 2 or len(qt) < 2:
        return float("nan")
    low, high = max(qa[0], qt[0]), min(qa[-1], qt[-1])
    if low >= high:
        return float("nan")
    area_a = PchipInterpolator(qa, ra).integrate(low, high)
    area_t = PchipInterpolator(qt, rt).integrate(low, high)
    return float((10 ** ((area_t - area_a) / (high - low)) - 1) * 100)


def quality_at_rate(rates: Sequence[float], quality: Sequence[float], rate: float) -> float:
    """Interpolated quality of a curve at ``rate`` (PCHIP over log-rate); NaN outside the curve."""
    order = np.argsort(rates)
    r = np.log10(np.asarray(rates, dtype=np.float64)[order])
    q = np.asarray(quality, dtype=np.float64)[order]
    keep = np.diff(r, prepend=-np.inf) > 0
    r, q = r[keep], q[keep]
    target = np.log10(rate)
    if len(r) < 2 or not r[0] <= target <= r[-1]:
        return float("nan")
    return float(PchipInterpolator(r, q)(target))


def crossover_rate(low_rate_curve: tuple[Sequence[float], Sequence[float]],
                   high_rate_curve: tuple[Sequence[float], Sequence[float]]) -> float:  # fmt: skip
    """The lowest rate (on a fine log grid) from which ``high_rate_curve`` is at least as good.

    Each curve is (rates, quality); NaN when the curves do not cross inside their overlap: where
    ``high_rate_curve`` already wins at the lowest shared rate the crossing lies lower, and the
    curves need points at lower rates to find it.
    """
    rates = np.geomspace(
        max(min(low_rate_curve[0]), min(high_rate_curve[0])), min(max(low_rate_curve[0]), max(high_rate_curve[0])), 200
    )
    wins = [quality_at_rate(*high_rate_curve, rate) >= quality_at_rate(*low_rate_curve, rate) for rate in rates]
    if not any(wins) or wins[0]:
        return float("nan")
    return float(rates[wins.index(True)])
