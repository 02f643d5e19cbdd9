"""Counting a campaign's findings by kind and by cause, with a reproducer for each cause."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fuzzing.picking import FAILURE_KINDS, NOTE_KINDS, OWNERS

EXAMPLES = 3  # reproducers kept per cause


@dataclass
class Cause:
    """Findings sharing a signature."""

    kind: str
    owner: str
    count: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Tally:
    """One part of a campaign (``api`` or ``cli``): cases run, cases per kind, causes."""

    part: str
    cases: int = 0
    seconds: float = 0.0
    peak_rss: int = 0
    failing: int = 0  # cases with at least one finding that is a failure (not a note)
    kinds: Counter[str] = field(default_factory=Counter)
    causes: dict[str, Cause] = field(default_factory=dict)

    def add(self, case: str, reproducer: str, findings: list[dict[str, str]], seconds: float, peak_rss: int) -> None:
        """Count one case; a case counts once per kind it showed."""
        self.cases += 1
        self.seconds += seconds
        self.peak_rss = max(self.peak_rss, peak_rss)
        kinds = {f["kind"] for f in findings}
        self.kinds.update(kinds)
        self.failing += bool(kinds & FAILURE_KINDS.keys())
        for finding in findings:
            key = f"{finding['kind']}: {finding['signature']}"
            cause = self.causes.setdefault(key, Cause(finding["kind"], finding["owner"]))
            cause.count += 1
            if len(cause.examples) < EXAMPLES:
                cause.examples.append({"case": case, "reproducer": reproducer, "detail": finding["detail"][:800]})

    def as_json(self) -> dict[str, object]:
        """Everything, for report.json."""
        causes = sorted(self.causes.items(), key=lambda item: (item[1].kind not in FAILURE_KINDS, -item[1].count))
        return {
            "cases": self.cases,
            "failing_cases": self.failing,
            "seconds": round(self.seconds, 1),
            "peak_rss_gb": round(self.peak_rss / 1e9, 2),
            "kinds": {kind: self.kinds.get(kind, 0) for kind in (*FAILURE_KINDS, *NOTE_KINDS)},
            "causes": [{"cause": key, **vars(cause)} for key, cause in causes],
        }

    def summary(self) -> list[str]:
        """Lines to print: counts by kind, then causes by likely owner."""
        head = f"{self.part.upper()}: {self.cases} cases, {self.failing} failing"
        lines = [f"{head}; {self.seconds:.0f} s in cases; highest peak {self.peak_rss / 1e9:.2f} GB"]
        for kind, meaning in {**FAILURE_KINDS, **NOTE_KINDS}.items():
            scope = meaning.split(":")[0]
            if kind in self.kinds or scope.lower() == self.part or scope not in ("API", "CLI"):
                note = "  (note)" if kind in NOTE_KINDS else ""
                lines.append(f"  {kind:22s} {self.kinds.get(kind, 0):6d}   {meaning}{note}")
        for who in OWNERS:
            mine = [(s, c) for s, c in self.causes.items() if c.owner == who and c.kind in FAILURE_KINDS]
            if mine:
                lines.append(f"  -- likely owner: {who}")
                for signature, cause in sorted(mine, key=lambda item: -item[1].count):
                    lines.append(f"    {cause.count:5d}  {signature[:110]}")
                    lines.append(f"           e.g. {cause.examples[0]['reproducer'][:220]}")
        return lines
