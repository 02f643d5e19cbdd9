"""What the fuzzer's cases share: where their choices come from, and what a finding is.

A case draws its choices through a :class:`Picker`, so one builder serves a seeded campaign
(:class:`RandomPicker`: case ``i`` of seed ``s`` is the same on every run) and hypothesis (the
tests' ``HypothesisPicker``, which can shrink what it finds).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


class Picker(Protocol):
    """Where a case's choices come from."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""
        ...

    def chance(self, probability: float) -> bool:
        """True with about ``probability``."""
        ...

    def number(self) -> int:
        """A 32-bit number (seeds a mutation)."""
        ...


class RandomPicker:
    """Choices from a seeded ``random.Random``: case ``i`` of seed ``s`` is the same on every run."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def number(self) -> int:
        return self.rng.getrandbits(32)


def mostly_valid(pick: Picker, options: Sequence[T], is_valid: Callable[[T], bool], share: float = 0.75) -> T:
    """A valid option ``share`` of the time (the code behind the checks gets reached), else any option."""
    valid = [option for option in options if is_valid(option)]
    return pick.choice(valid if valid and pick.chance(share) else options)


def normalise(message: str) -> str:
    """A message with numbers and quoted names blurred, to group findings of one cause."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message.splitlines()[0] if message else "")
    return re.sub(r"\d+", "N", message)[:90]


@dataclass(frozen=True)
class Finding:
    """One thing a case got wrong: its ``kind``, a ``signature`` grouping findings of one cause, a detail."""

    kind: str
    signature: str
    detail: str
    owner: str = ""  # who likely fixes it (see OWNERS)


OWNERS = ("memory/bombs", "codec/metadata", "CLI/file handling", "API argument types")


FAILURE_KINDS = {
    "escape": "API: an exception that is not a JpegPlusError",
    "traceback": "CLI: a traceback on stderr",
    "crash": "killed by a signal (segmentation fault, bus error, abort)",
    "hang": "over the time limit",
    "memory": "over the memory limit (peak resident memory)",
    "bomb_allocated": "API: over 256 MiB allocated for a tiny file that claims a huge size",
    "exit_code": "CLI: an exit code the case does not allow (0 success, 1 bad input, 2 bad option)",
    "stderr_lines": "CLI: a failure with other than exactly one stderr line",
    "noise_on_success": "CLI: libjpeg's, libtiff's or Python's own messages on stderr on success",
    "output_after_failure": "CLI: files or folders written by a failed command",
    "temp_left": "CLI: temporary or partial files left",
    "input_changed": "an input or an existing file changed",
    "bad_output": "CLI: a success without a readable output",
    "rejected_valid": "API: a valid call refused",
    "accepted_invalid": "API: an invalid argument accepted",
    "wrong_result": "API: a result of the wrong type or shape",
}
NOTE_KINDS = {
    "warning_on_success": "CLI: a jpegplus warning on stderr on success",
    "warning": "API: a Python warning",
    "stderr_noise": "API: output on stdout or stderr (libjpeg's own messages)",
}
