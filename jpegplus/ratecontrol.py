"""Quality search by bisection over the monotonic 1–100 scale: the fewest encodes for a target."""

from __future__ import annotations

from collections.abc import Callable


def bisect_quality(encode: Callable[[int], bytes], passes: Callable[[bytes], bool], *, highest: bool) -> bytes | None:
    """The encode at the highest (or lowest) quality that ``passes``, or ``None``; at most 7 encodes.

    ``passes`` must be monotonic in quality: true below a point for a size limit (``highest``),
    true above a point for a quality floor (not ``highest``).

    >>> len(bisect_quality(lambda q: bytes(q), lambda d: len(d) <= 42, highest=True))
    42
    """
    low, high, best = 1, 100, None
    while low <= high:
        middle = (low + high) // 2
        data = encode(middle)
        if passes(data):
            best = data
        if passes(data) == highest:
            low = middle + 1
        else:
            high = middle - 1
    return best
