"""The API worker: a child process that runs API cases one by one for a supervisor.

The supervisor (:class:`ApiWorker`) writes a case number per line; the worker builds that case
from the campaign seed, writes it to ``current.json`` / ``current.bin`` *before* running it (so a
case that hangs or kills the worker is still known), runs it with stdout and stderr captured, and
answers one JSON line. The supervisor kills the worker on a hang or runaway memory and starts a
new one for the next case.
"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fuzzing.api import ApiCase, build_case, case_from_spec, likely_owner, run_case
from fuzzing.picking import Finding, RandomPicker
from fuzzing.seeds import SeedSet, read_seeds
from fuzzing.supervise import Limits, Watch, kill_group, resident_memory

BOMB_ALLOWANCE = 256 * 2**20  # what refusing a tiny file that claims a huge size may allocate
TESTS = Path(__file__).resolve().parent.parent


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


class ApiWorker:
    """A supervised worker: one case at a time, restarted after a hang, a memory overrun or a crash."""

    def __init__(self, *, target: Path, seeds_dir: Path, seed: str, workdir: Path, limits: Limits, hostile: bool):
        self.target, self.seeds_dir, self.seed, self.workdir = target, seeds_dir, seed, workdir
        self.limits, self.hostile = limits, hostile
        self.child: subprocess.Popen[bytes] | None = None
        self.buffer = b""

    def _start(self) -> subprocess.Popen[bytes]:
        boot = f"import sys; sys.path.insert(0, {str(TESTS)!r}); from fuzzing.worker import serve; serve(*sys.argv[1:])"
        argv = [
            sys.executable,
            "-c",
            boot,
            str(self.seeds_dir),
            self.seed,
            str(self.workdir),
            "1" if self.hostile else "0",
        ]
        env = {**os.environ, "PYTHONPATH": str(self.target)}
        log = (self.workdir / "worker.log").open("ab")
        child = subprocess.Popen(
            argv, cwd=self.workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        self.buffer = b""
        return child

    def stop(self) -> None:
        """End the worker (the one this object started)."""
        if self.child is not None:
            kill_group(self.child.pid)
            self.child.wait()
            self.child = None

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a case (``{"id", "index"}`` or ``{"id", "spec", "file"}``): the worker's answer, or a hang,
        memory or crash finding for the case it was on."""
        if self.child is None:
            self.child = self._start()
        child = self.child
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(request).encode() + b"\n")
        child.stdin.flush()
        watch = Watch(child.pid, self.limits)
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([child.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(child.stdout.fileno(), 1 << 16)
                self.buffer += chunk
                if chunk:
                    continue
            stopped = "crash" if child.poll() is not None else watch.verdict()
            if stopped:
                details = {
                    "crash": f"the worker died (exit code {child.returncode})",
                    "memory": f"stopped at {watch.peak / 1e9:.1f} GB resident",
                    "timeout": f"stopped after {watch.cpu:.0f} s CPU, {watch.wall:.0f} s wall",
                }
                self.stop()
                kind = "hang" if stopped == "timeout" else stopped
                return self._lost(request["id"], kind, details[stopped], seconds=watch.wall, peak=watch.peak)
        line, self.buffer = self.buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        if answer["peak_rss"] > self.limits.memory:
            detail = f"{answer['peak_rss'] / 1e9:.2f} GB peak"
            owner = json.loads((self.workdir / "current.json").read_text())["owners"]["memory"]
            answer["findings"].append(
                {
                    "kind": "memory",
                    "signature": answer["origin"],
                    "detail": detail,
                    "owner": owner,
                }
            )
        return answer

    def _lost(self, case_id: object, kind: str, detail: str, *, seconds: float, peak: int) -> dict[str, Any]:
        """The answer for a case that took the worker down; a worker that cannot start stops the campaign."""
        current_file = self.workdir / "current.json"
        current = json.loads(current_file.read_text()) if current_file.exists() else {"id": None}
        if current["id"] != case_id:
            log = (self.workdir / "worker.log").read_text(errors="replace")[-2000:]
            msg = f"the API worker died before starting case {case_id}:\n{log}"
            raise RuntimeError(msg)
        return {
            **current,
            "has_input": True,
            "findings": [
                {
                    "kind": kind,
                    "signature": current["origin"],
                    "detail": detail,
                    "owner": current["owners"][kind],
                }
            ],
            "seconds": seconds,
            "peak_rss": peak,
        }
