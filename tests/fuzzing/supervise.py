"""Running a child process under watch: a time limit, a memory limit, and its own peak memory.

Time is counted as the child's CPU time, so a run on a machine busy with other work (training,
other tests) is not taken for a hang: ``seconds`` of CPU time is at least ``seconds`` of wall time
on an idle machine. A child that sleeps (a read from a FIFO nobody writes to) uses no CPU, so one
that has used none for ``stalled`` seconds counts as hung (blocked) too; ``wall_cap`` ends
anything. The child gets its own session, so a kill reaches everything it started.

:class:`ApiWorker` keeps one long-lived API worker (:mod:`fuzzing.worker`) under the same watch,
one case at a time, and starts a new one after a hang, a memory overrun or a crash.

Peak memory: ``wait4``'s ``ru_maxrss`` is exact when it exceeds what this process held when it
forked (Linux counts the forked copy's pages until ``exec``); below that, the child's own ``VmHWM``,
polled from ``/proc`` until it ends, is the peak. The polling also stops a child heading past
``kill_memory`` before it hurts the shared machine.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GB = 1_000_000_000
TESTS = Path(__file__).resolve().parent.parent  # where the worker finds the fuzzing package
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Limits:
    """What a run may take: CPU ``seconds``, ``memory`` (peak bytes; a failure beyond) and ``kill_memory``."""

    seconds: float = 20.0
    memory: int = 2 * GB
    kill_memory: int = 3 * GB  # a run is stopped here, to keep the shared machine safe
    stalled: float = 10.0  # wall seconds without CPU progress that make a run past ``seconds`` a hang
    wall_cap: float = 300.0


@dataclass(frozen=True)
class Run:
    """How a child ended: exit code (negative: killed by that signal), what it printed, time and peak memory."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int
    stopped: str | None = None  # "timeout" or "memory" when this supervisor killed it
    cpu_seconds: float = 0.0


def resident_memory(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of ``pid`` in bytes: now (``VmRSS``) or its peak (``VmHWM``); 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def cpu_time(pid: int) -> float:
    """CPU seconds (user + system) ``pid`` has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15 of stat


def kill_group(pid: int) -> None:
    """Kill the session this supervisor started for ``pid`` (nothing else)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Watch:
    """Watches one piece of a child's work (a whole run, or one case of a long-lived worker)."""

    def __init__(self, pid: int, limits: Limits) -> None:
        self.pid, self.limits = pid, limits
        self.started = self.progressed = time.monotonic()
        self.cpu_start = self.cpu_seen = cpu_time(pid)
        self.peak = 0

    @property
    def cpu(self) -> float:
        """CPU seconds used since the watch began."""
        return self.cpu_seen - self.cpu_start

    @property
    def wall(self) -> float:
        """Wall seconds since the watch began."""
        return time.monotonic() - self.started

    def verdict(self) -> str | None:
        """``"memory"`` or ``"timeout"`` when the child must be stopped now, else ``None``."""
        now, cpu = time.monotonic(), cpu_time(self.pid)
        if cpu > self.cpu_seen + 0.05:
            self.cpu_seen, self.progressed = cpu, now
        self.peak = max(self.peak, resident_memory(self.pid, "VmHWM"))
        if resident_memory(self.pid) > self.limits.kill_memory:
            return "memory"
        stalled = now - self.progressed > self.limits.stalled
        if self.cpu > self.limits.seconds or stalled or self.wall > self.limits.wall_cap:
            return "timeout"
        return None


def run(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    limits: Limits,
    stdin: int | None = subprocess.DEVNULL,
) -> Run:
    """Run ``argv`` to its end or a limit; stdout and stderr go through files, so nothing blocks on a pipe."""
    out_path, err_path = cwd.parent / f".{cwd.name}.stdout", cwd.parent / f".{cwd.name}.stderr"
    forked_from = resident_memory(os.getpid(), "VmHWM")  # at most what the forked copy counted
    with out_path.open("wb") as out, err_path.open("wb") as err:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=err, start_new_session=True)
        watch, stopped, pause = Watch(child.pid, limits), None, 0.01
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            stopped = watch.verdict()
            if stopped:
                kill_group(child.pid)
                _, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)
        kill_group(child.pid)  # whatever the child left running in its session
        child.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_bytes().decode("utf-8", "replace")
    stderr = err_path.read_bytes().decode("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss * 1024 if usage.ru_maxrss * 1024 > forked_from * 1.05 else watch.peak
    return Run(child.returncode, stdout, stderr, watch.wall, peak, stopped, cpu)


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
