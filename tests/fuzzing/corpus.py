"""The committed corpus of reproducers (tests/fuzz_corpus/): each failure found once, replayed for good.

``manifest.json`` lists entries; each names what it reproduces, its input (a committed file, a seed
recipe of :mod:`fuzzing.seeds`, or none), and either an API call or a CLI command with what it must
do. ``open`` names the issue item of an entry whose fix has not landed yet: the test expects it to
fail (strictly, so a fix turns it into a reminder to drop ``open``), and the random fuzz tests
tolerate failures that match its ``signature`` pattern.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuzzing.picking import Finding

CORPUS = Path(__file__).resolve().parent.parent / "fuzz_corpus"
MANIFEST = CORPUS / "manifest.json"


@dataclass(frozen=True)
class Entry:
    """One reproducer."""

    name: str
    reproduces: str
    input: str | None = None  # a file in the corpus folder, or "seed:NAME" for a seed recipe
    api: dict[str, Any] | None = None  # {"function", "source", "keywords", "expect"}
    cli: dict[str, Any] | None = None  # {"words", "codes", "special"}
    open: str | None = None  # the issue item still to fix
    signature: str | None = None  # regex over "kind: signature" of the findings it causes
    tags: list[str] = field(default_factory=list)

    def data(self, seeds: dict[str, bytes]) -> bytes | None:
        """The input's bytes, if the entry has an input."""
        if self.input is None:
            return None
        if self.input.startswith("seed:"):
            return seeds[self.input.removeprefix("seed:")]
        return (CORPUS / self.input).read_bytes()


def load() -> list[Entry]:
    """Every corpus entry."""
    return [Entry(**entry) for entry in json.loads(MANIFEST.read_text())]


def known_open(entries: list[Entry]) -> list[tuple[str, re.Pattern[str]]]:
    """(issue item, pattern) of the entries still open."""
    return [(entry.open, re.compile(entry.signature)) for entry in entries if entry.open and entry.signature]


def unexplained(findings: list[Finding], patterns: list[tuple[str, re.Pattern[str]]]) -> list[Finding]:
    """The findings that are failures and match no open entry."""
    from fuzzing.picking import FAILURE_KINDS

    return [
        finding
        for finding in findings
        if finding.kind in FAILURE_KINDS
        and not any(p.search(f"{finding.kind}: {finding.signature} {finding.detail}") for _, p in patterns)
    ]
