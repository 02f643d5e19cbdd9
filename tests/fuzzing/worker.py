"""The API worker: a child process that runs API cases one by one for its supervisor.

The supervisor (:class:`fuzzing.supervise.ApiWorker`) writes a request per line; the worker builds
that case (from the campaign seed, or spelled out), writes it to ``current.json`` / ``current.bin``
*before* running it (so a case that hangs or kills the worker is still known), runs it with stdout
and stderr captured, and answers one JSON line.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fuzzing.api import ApiCase, build_case, case_from_spec, likely_owner, run_case
from fuzzing.picking import Finding, RandomPicker
from fuzzing.seeds import SeedSet, read_seeds
from fuzzing.supervise import resident_memory

BOMB_ALLOWANCE = 256 * 2**20  # what refusing a tiny file that claims a huge size may allocate


def peak_memory() -> int:
    """This process's peak resident memory (bytes) since the last :func:`reset_peak`."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    """Start measuring the peak afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def case_for(request: dict[str, Any], seeds: SeedSet, seed: str, hostile: bool) -> ApiCase:
    """Case ``index`` of the campaign seed, or the case a ``spec`` spells out (a corpus entry)."""
    if "spec" in request:
        data = Path(request["file"]).read_bytes() if request.get("file") else None
        return case_from_spec(request["spec"], data)
    return build_case(RandomPicker(random.Random(f"{seed}:{request['index']}")), seeds, hostile=hostile)


def run_captured(case: ApiCase, work: Path) -> list[Finding]:
    """:func:`run_case` with stdout and stderr caught at the file descriptors (libjpeg writes there too)."""
    noise_path = work / "noise.txt"
    saved = os.dup(1), os.dup(2)
    with noise_path.open("wb") as noise:
        os.dup2(noise.fileno(), 1)
        os.dup2(noise.fileno(), 2)
        try:
            findings = run_case(case, work)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for descriptor, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, descriptor)
                os.close(copy)
    lines = noise_path.read_text("utf-8", "replace").splitlines()
    if lines:
        findings.append(
            Finding("stderr_noise", lines[0][:80], "\n".join(lines[:5]), likely_owner(case, "stderr_noise"))
        )
    return findings


def serve(seeds_dir: str, seed: str, workdir: str, hostile: str) -> None:
    """Answer requests (JSON lines: a case ``index``, or a case ``spec``) from stdin until it closes."""
    seeds, work = read_seeds(Path(seeds_dir)), Path(workdir)
    answers = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        request = json.loads(line)
        case = case_for(request, seeds, seed, hostile == "1")
        (work / "current.bin").write_bytes(case.source.data or b"")
        reproducer = case.reproducer("{input}")
        owners = {kind: likely_owner(case, kind) for kind in ("hang", "memory", "crash")}
        origin = f"{case.function} on {case.source.note.split(' mutated')[0] or case.source.expr}"
        current = {"id": request["id"], "case": case.describe(), "reproducer": reproducer, "owners": owners}
        current["origin"] = origin
        (work / "current.json").write_text(json.dumps(current))
        reset_peak()
        before, started = resident_memory(os.getpid()), time.monotonic()
        findings = run_captured(case, work)
        peak = peak_memory()
        if "claims-huge" in case.seed_tags and peak - before > BOMB_ALLOWANCE:
            detail = f"{(peak - before) / 2**20:.0f} MiB allocated for a file that claims a huge size"
            findings.append(
                Finding("bomb_allocated", f"{case.function} allocated before refusing", detail, "memory/bombs")
            )
        answer = {
            **current,
            "has_input": case.source.data is not None,
            "findings": [asdict(f) for f in findings],
            "seconds": time.monotonic() - started,
            "peak_rss": peak,
        }
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
