"""The JSON-lines manifest of a batch: one record per input, appended as each finishes."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType

MANIFEST_NAME = "jpegplus-manifest.jsonl"


@dataclass(frozen=True)
class Record:
    """What happened to one input.

    ``status`` is ``done``, ``failed`` (``error`` says why) or ``skipped`` (its output existed).
    ``bpp`` is the compressed file's bits per pixel of the full-size picture (the output's for
    compress, the input's for decompress and enhance). ``seconds`` is the job's wall time in its
    worker, ``cpu_seconds`` the CPU time of the worker's threads meanwhile. ``notes`` are the warnings the library
    logged for this file, as (logging level, message).
    """

    input: str
    output: str
    status: str
    bytes_in: int = 0
    bytes_out: int = 0
    bpp: float | None = None
    mode: str | None = None
    error: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    worker: str = ""
    notes: tuple[tuple[int, str], ...] = ()

    def to_json(self) -> str:
        """One manifest line (without the newline)."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Record:
        """The record of a manifest line."""
        fields = json.loads(line)
        fields["notes"] = tuple((int(level), str(text)) for level, text in fields.get("notes", ()))
        return cls(**fields)


def read_manifest(path: Path) -> list[Record]:
    """Every record of a manifest file, oldest first (a re-run appends to it)."""
    return [Record.from_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Manifest:
    """Appends records to ``DST/jpegplus-manifest.jsonl``, flushed line by line (a killed run keeps them)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / MANIFEST_NAME
        self._stream = self.path.open("a", encoding="utf-8")

    def add(self, record: Record) -> None:
        """Append one record."""
        self._stream.write(record.to_json() + "\n")
        self._stream.flush()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stream.close()


@dataclass
class Summary:
    """Counts and bytes of a batch, for its final line."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    ignored: Counter[str] = field(default_factory=Counter)

    def add(self, record: Record) -> None:
        """Count one record."""
        if record.status == "done":
            self.done += 1
            self.bytes_in += record.bytes_in
            self.bytes_out += record.bytes_out
        elif record.status == "failed":
            self.failed += 1
        else:
            self.skipped += 1

    def line(self) -> str:
        """E.g. ``24 files: 23 done, 1 failed; 15.1 MB -> 1.2 MB (92.1% saved)``."""
        parts = [f"{self.done} done"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (output exists)")
        parts.append(f"{self.failed} failed")
        parts.extend(f"{count} ignored ({reason})" for reason, count in sorted(self.ignored.items()))
        text = f"{self.done + self.failed + self.skipped} files: {', '.join(parts)}"
        if self.bytes_in:
            change = 1 - self.bytes_out / self.bytes_in
            saved = f"{change:.1%} saved" if change >= 0 else f"{-change:.1%} larger"
            text += f"; {_megabytes(self.bytes_in)} -> {_megabytes(self.bytes_out)} ({saved})"
        return text


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"
