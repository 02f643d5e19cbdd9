"""CLI cases: the real ``jpegplus`` command in a child process, in a folder of its own, watched.

Every run is checked as issue #18 asks: exit code 0, 1 (bad input) or 2 (bad option) as the case
expects; on failure exactly one stderr line and no traceback; on success no stray stderr and only
decodable outputs; never a file left behind by a failed command, never a temporary file, never a
changed input or existing file; time and peak memory within the limits.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from fuzzing.mutate import mutate
from fuzzing.picking import Finding, Picker, mostly_valid, normalise
from fuzzing.seeds import Seed, SeedSet, fits
from fuzzing.supervise import Limits, Run, run

OK, BAD_INPUT, BAD_OPTION, BAD_ANY = frozenset({0}), frozenset({1}), frozenset({2}), frozenset({1, 2})
EITHER_INPUT, ANY = frozenset({0, 1}), frozenset({0, 1, 2})
SPECIALS = {  # inputs that are not regular files: what the case folder holds instead
    "fifo": "a FIFO nobody writes to",
    "endless-fifo": "a FIFO fed zeros without end",
    "/dev/zero": "the endless /dev/zero",
    "/dev/urandom": "the endless /dev/urandom",
    "folder": "an empty folder",
    "missing": "a path that does not exist",
}


@dataclass(frozen=True)
class Option:
    """Command-line words and, for a bad value, the exit codes it calls for (``parse``: the parser refuses it)."""

    words: tuple[str, ...]
    codes: frozenset[int] | None = None
    parse: bool = False


def options(flag: str, valid: Sequence[str], unparsable: Sequence[str], refused: Sequence[str] = ()) -> list[Option]:
    """An option's valid values, values the parser refuses and values refused after parsing (all exit 2)."""
    found = [Option((flag, v)) for v in valid] + [Option((flag, v), BAD_OPTION, parse=True) for v in unparsable]
    return found + [Option((flag, v), BAD_OPTION) for v in refused]


DEVICE = [Option(("--device", "cpu"))] + [Option(("--device", v), BAD_ANY) for v in ("bogus", "cuda", "meta", "")]
MAX_PIXELS = options("--max-pixels", ["100000000"], ["0", "abc", "-1"]) + [
    Option(("--max-pixels", "100"), EITHER_INPUT)
]
PICTURES = [
    options("--format", ["png", "tiff", "jpeg"], ["gif", ""]),
    options("-q", ["20", "95"], ["0", "x"]),
    DEVICE,
    MAX_PIXELS,
]
OPTIONS: dict[str, list[list[Option]]] = {
    "compress": [
        options("--codec", ["jpeg", "webp", "avif", "jpeg2000"], ["bogus", ""]) + [Option(("--codec", "JPEG"), ANY)],
        options("-q", ["1", "50", "100"], ["0", "101", "abc", "-5", "", "1.5"]),
        options("-m", ["auto", "full", "downsample"], ["half"]),
        options("--target-size", ["40KB", "100000", "1.5MB"], [], ["abc", "0", "-5", "40XB", "", "1e99"]),
        options("--target-psnr", ["10"], ["5", "90", "abc", "inf"], ["nan"]),
        [Option(("--saliency",)), Option(("--allow-half-size",))],
        DEVICE,
        MAX_PIXELS,
    ],
    "decompress": PICTURES,
    "enhance": [options("--strength", ["1", "50", "100"], ["0", "101", "x"]), *PICTURES],
    "info": [[Option(("--bogus-option",), BAD_OPTION, parse=True)]],
}
FOREIGN = re.compile(  # stderr lines that are not jpegplus speaking: libjpeg, libtiff, Python warnings
    r"^(?!jpegplus: )(.*(Corrupt JPEG data|Premature end of JPEG|Invalid SOS|Huffman table|JPEG datastream"
    r"|Unsupported marker|TIFF\w+:|libpng|\w+Warning\b|\.py:\d+)|\s*File \")"
)
# What -o's name says (the CLI checks it against --codec / --format before any work; anything else: exit 2)
CODEC_BY_SUFFIX = {".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".avif": "avif", ".jp2": "jpeg2000"}
CODEC_BY_FORMAT = {"JPEG": "jpeg", "WEBP": "webp", "AVIF": "avif", "JPEG2000": "jpeg2000"}  # Pillow format -> codec
PICTURE_BY_FORMAT = {"PNG": "png", "TIFF": "tiff", "JPEG": "jpeg"}  # Pillow format -> --format
PICTURE_BY_SUFFIX = {".png": "png", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg"}
PICTURE_SUFFIXES = [*PICTURE_BY_SUFFIX, ".webp", ".bmp", ".blp", ".xyz", ""]
SUFFIXES = {"compress": [*CODEC_BY_SUFFIX, ".out", ".png"], "decompress": PICTURE_SUFFIXES, "enhance": PICTURE_SUFFIXES}
MANIFEST = "jpegplus-manifest.jsonl"  # what a run with --out-dir records, failures included


@dataclass
class CliCase:
    """One command: its words, the files its folder starts with, and what it must end with.

    The exit codes it may end with follow from ``input_codes`` (what its input allows), ``problems``
    (the codes each certain problem calls for: a refused option value, an output it must not write)
    and ``parse_error`` (an option the parser refuses: exit 2 whatever else is wrong).
    """

    command: str
    words: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    note: str = ""
    input_codes: frozenset[int] = OK
    problems: list[frozenset[int]] = field(default_factory=list)
    parse_error: bool = False
    special: str | None = None
    stdin: bytes | None = None
    heavy: bool = False

    @property
    def replaceable(self) -> str | None:
        """The existing file this command may replace: its -o output, with --force."""
        if "--force" in self.words and "-o" in self.words[:-1]:
            return self.words[self.words.index("-o") + 1]
        return None

    @property
    def writes_file(self) -> bool:
        """Whether success must leave an output file (not info, nor standard output: -o -, or stdin without -o)."""
        to_stdout = "-o" in self.words and self.words[self.words.index("-o") + 1 :][:1] == ["-"]
        from_stdin = self.words[1:2] == ["-"] and not {"-o", "--out-dir"} & set(self.words)
        return self.command != "info" and not (to_stdout or from_stdin)

    @property
    def codes(self) -> frozenset[int]:
        """The exit codes this case may end with."""
        if self.parse_error:
            return BAD_OPTION
        if self.problems:
            return frozenset().union(*self.problems) | (self.input_codes - OK)
        return self.input_codes

    def describe(self) -> str:
        """The command line as a user would type it, and where the input came from."""
        words = " ".join(w if w and " " not in w else repr(w) for w in self.words)
        return f"jpegplus {words}  # {self.note}"


def input_name(pick: Picker, seed: Seed) -> str:
    """The input's file name: usually its own extension, sometimes a misleading one, hidden or odd."""
    suffix = Path(seed.name).suffix
    return pick.choice([f"in{suffix}"] * 6 + ["in.png", "in.jpg", f".hidden{suffix}", f"ünï côdé{suffix}", "in"])


def pick_input(pick: Picker, case: CliCase, seeds: SeedSet) -> str:
    """Choose the input and put it into the case; return the word naming it on the command line."""
    if pick.chance(0.04):
        special = pick.choice(sorted(SPECIALS))
        case.special, case.input_codes, case.note = special, BAD_INPUT, SPECIALS[special]
        return special if special.startswith("/dev/") else f"in-{special}.jpg"
    usable = [s for s in seeds.seeds if "heavy" not in s.tags]
    seed = pick.choice([s for s in usable if fits(s, case.command)] if pick.chance(0.5) else usable)
    data, case.note = seed.data, seed.name
    case.input_codes = {True: OK, False: BAD_INPUT, None: EITHER_INPUT}[fits(seed, case.command)]
    if pick.chance(0.55):
        data, steps = mutate(seed.data, random.Random(pick.number()), [s.data for s in usable if s.data])
        case.note, case.input_codes = f"{seed.name} mutated: {steps}", EITHER_INPUT
    if not data:
        case.input_codes = BAD_INPUT
    if pick.chance(0.03):
        case.stdin, case.note, case.input_codes = data, f"{case.note}, on stdin", case.input_codes | BAD_INPUT
        return "-"
    name = input_name(pick, seed)
    case.files[name] = data
    return name


def pick_output(pick: Picker, case: CliCase, source: str) -> list[str]:
    """The output words: none (the default name), -o with some name, standard output, or --out-dir."""
    kind = pick.choice(["default", "named", "named", "existing", "force", "input", "under-file", "new-dir", "dir", "-"])
    name = "out" + (fitting_suffix(pick, case) if pick.chance(0.75) else pick.choice(SUFFIXES[case.command]))
    if kind == "default":
        return []
    if kind in ("existing", "force"):
        case.files[name] = b"an existing file that must survive without --force"
        case.problems += [BAD_INPUT] if kind == "existing" else []
        return ["-o", name] + (["--force"] if kind == "force" else [])
    if kind == "input" and source in case.files:
        case.problems.append(BAD_INPUT)
        return ["-o", source, "--force"]
    if kind == "under-file":
        case.files["file"] = b"a regular file, not a folder"
        case.problems.append(BAD_INPUT)
        return ["-o", f"file/{name}"]
    if kind == "new-dir":
        case.problems.append(EITHER_INPUT)  # a missing folder may be made, or refused
        return ["-o", f"new/dir/{name}"]
    if kind == "dir":
        return ["--out-dir", "outdir"]
    if kind == "-":
        return ["-o", "-"]
    return ["-o", name]


def fitting_suffix(pick: Picker, case: CliCase) -> str:
    """An extension that fits the output: --codec's or --format's if given, else any the CLI reads."""
    flag, named = ("--codec", CODEC_BY_SUFFIX) if case.command == "compress" else ("--format", PICTURE_BY_SUFFIX)
    chosen = case.words[case.words.index(flag) + 1] if flag in case.words[:-1] else None
    return pick.choice([suffix for suffix, value in named.items() if chosen in (None, value)] or [*named])


def misnamed(case: CliCase) -> bool:
    """Whether -o's name contradicts the command's output (--codec, --format, or what the name says)."""
    if "-o" not in case.words[:-1] or case.words[case.words.index("-o") + 1] == "-":
        return False
    suffix = Path(case.words[case.words.index("-o") + 1]).suffix.lower()
    flag, named = ("--codec", CODEC_BY_FORMAT) if case.command == "compress" else ("--format", PICTURE_BY_FORMAT)
    chosen = case.words[case.words.index(flag) + 1] if flag in case.words[:-1] else None
    if chosen == "JPEG":
        return False  # the case allows any exit code already
    by_name = named.get(Image.registered_extensions().get(suffix, ""))  # as the CLI reads names: .j2k is JPEG 2000
    return by_name is None or chosen not in (None, by_name)


def build_cli_case(pick: Picker, seeds: SeedSet) -> CliCase:
    """A random command with an input, options (each with a chance of 30%) and an output."""
    case = CliCase(pick.choice(["compress"] * 3 + ["decompress"] * 2 + ["enhance"] * 2 + ["info"]))
    source = pick_input(pick, case, seeds)
    chosen = [
        mostly_valid(pick, group, lambda o: o.codes is None) for group in OPTIONS[case.command] if pick.chance(0.3)
    ]
    case.words = [case.command, source] + [w for option in chosen for w in option.words]
    case.parse_error = any(option.parse for option in chosen)
    case.problems += [option.codes for option in chosen if option.codes is not None]
    if case.command != "info":
        case.words += pick_output(pick, case, source)
        case.parse_error |= misnamed(case) or (source == "-" and "--out-dir" in case.words)
    if case.command == "compress" and pick.chance(0.1):
        target = pick.choice(["map.png", "missing/map.png", "file/map.png", "map.xyz"])
        case.files["file"] = b"a regular file, not a folder"
        case.words += ["--save-saliency", target]
        case.problems += [BAD_ANY] if target.startswith(("file/", "missing/")) or target.endswith(".xyz") else []
    if {"--target-size", "--target-psnr"} <= set(case.words):
        case.problems.append(BAD_ANY)
    return case


def heavy_cases(seeds: SeedSet) -> list[CliCase]:
    """The fixed heavy runs: multi-megapixel work asked for by small files (issue #18, item 8)."""
    found = []
    for seed in seeds.seeds:
        if "heavy" in seed.tags:
            command, name = "enhance" if "flat" in seed.name else "decompress", f"in{Path(seed.name).suffix}"
            words = [command, name, "-o", "out.png"]
            found.append(CliCase(command, words, {name: seed.data}, seed.name, EITHER_INPUT, heavy=True))
    return found


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder``: relative name → content digest ("dir" for folders)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            found[name] = "special"
        else:
            found[name] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def prepare(case: CliCase, folder: Path) -> None:
    """Fill the case folder: the files, and the special input if any."""
    folder.mkdir(parents=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    if case.special == "folder":
        (folder / "in-folder.jpg").mkdir()
    elif case.special in ("fifo", "endless-fifo"):
        os.mkfifo(folder / f"in-{case.special}.jpg")


def feed_endlessly(path: Path, stop: threading.Event) -> None:
    """Write zeros into a FIFO until ``stop``; opened read-write so that opening never blocks."""
    handle = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    block = bytes(1 << 16)
    try:
        while not stop.is_set():
            try:
                os.write(handle, block)
            except BlockingIOError:
                stop.wait(0.01)
    finally:
        os.close(handle)


def execute(case: CliCase, folder: Path, target: Path, limits: Limits) -> tuple[Run, dict[str, str], dict[str, str]]:
    """Run the case in ``folder`` (made here): the run, and the folder before and after."""
    prepare(case, folder)
    temporary = folder.parent / f"{folder.name}.tmp"
    temporary.mkdir()
    before = snapshot(folder)
    stop = threading.Event()
    feeder = None
    if case.special == "endless-fifo":
        feeder = threading.Thread(target=feed_endlessly, args=(folder / "in-endless-fifo.jpg", stop), daemon=True)
        feeder.start()
    env = {**os.environ, "PYTHONPATH": str(target), "TMPDIR": str(temporary), "COLUMNS": "200"}
    argv = [sys.executable, "-c", "from jpegplus.cli import main; main()", *case.words]
    stdin_path = folder.parent / f"{folder.name}.stdin"
    stdin_path.write_bytes(case.stdin or b"")
    with stdin_path.open("rb") as stdin:
        result = run(argv, cwd=folder, env=env, limits=limits, stdin=stdin.fileno())
    stop.set()
    if feeder is not None:
        feeder.join()
    stdin_path.unlink()
    after = snapshot(folder)
    left = snapshot(temporary)
    shutil.rmtree(temporary)
    return result, before, {**after, **{f"$TMPDIR/{name}": digest for name, digest in left.items()}}


def is_record(name: str, after: dict[str, str]) -> bool:
    """The --out-dir manifest, or a folder holding nothing else: the run's record, kept even for failures."""
    if Path(name).name == MANIFEST:
        return True
    inside = [other for other in after if other.startswith(f"{name}/")]
    return after.get(name) == "dir" and bool(inside) and all(Path(other).name == MANIFEST for other in inside)


def is_temporary(name: str) -> bool:
    """A file that looks like an unfinished or temporary write."""
    return name.startswith("$TMPDIR/") or name.endswith(".part") or ".tmp" in Path(name).name


def likely_owner(case: CliCase, kind: str) -> str:
    """Who likely fixes a finding: bombs, the codecs and metadata (a crash on a file), or the CLI's file handling."""
    if kind == "memory" or case.heavy or "bomb-" in case.note:
        return "memory/bombs"
    if kind in ("crash", "traceback") and case.files and not (case.problems or case.parse_error):
        return "codec/metadata"
    return "CLI/file handling"


def check(
    case: CliCase, result: Run, before: dict[str, str], after: dict[str, str], folder: Path, limits: Limits
) -> list[Finding]:
    """Everything the run got wrong."""
    origin = case.note.split(" mutated")[0]
    if result.stopped == "timeout":
        detail = f"stopped after {result.seconds:.0f} s, {result.cpu_seconds:.0f} s CPU"
        findings = [Finding("hang", f"{case.command} on {origin}", detail)]
    elif result.stopped == "memory" or result.peak_rss > limits.memory:
        findings = [Finding("memory", f"{case.command} on {origin}", f"{result.peak_rss / 1e9:.2f} GB peak")]
    else:
        findings = stream_findings(case, result) + file_findings(case, result, before, after)
        if result.code == 0:
            replaced = {case.replaceable} & after.keys() if case.replaceable else set()
            written = (after.keys() - before.keys()) | replaced
            findings += output_findings(case, written, after, folder)
    return [replace(f, owner=likely_owner(case, f.kind)) for f in findings]


def stream_findings(case: CliCase, result: Run) -> list[Finding]:
    """Exit code, traceback, stderr lines."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    found = []
    if result.code < 0:
        found.append(Finding("crash", f"{case.command} killed by signal {-result.code}", result.stderr[-300:]))
    elif result.code not in case.codes:
        expected = "/".join(str(code) for code in sorted(case.codes))
        said = f": {normalise(lines[-1])}" if lines else ""
        signature = f"{case.command} exit {result.code}, expected {expected}{said}"
        found.append(Finding("exit_code", signature, "\n".join(lines[-2:])))
    if "Traceback (most recent call last)" in result.stderr:
        last = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Warning|Interrupt)\b", line)]
        what = normalise(last[-1]) if last else "(no exception line)"
        found.append(Finding("traceback", f"{case.command} {what}", result.stderr[-800:]))
    elif result.code > 0 and len(lines) != 1:
        found.append(
            Finding(
                "stderr_lines",
                f"{case.command} failed with {len(lines)} stderr lines",
                "\n".join(lines[:4]),
            )
        )
    elif result.code == 0 and lines:
        foreign = [line for line in lines if FOREIGN.search(line)]
        kind, first = ("noise_on_success", foreign[0]) if foreign else ("warning_on_success", lines[0])
        found.append(Finding(kind, f"{case.command} {normalise(first)}", "\n".join(lines[:4])))
    return found


def file_findings(case: CliCase, result: Run, before: dict[str, str], after: dict[str, str]) -> list[Finding]:
    """Changed inputs or existing files, temporary files left, files written by a failed command."""
    new = sorted(after.keys() - before.keys())
    changed = sorted(name for name in before if after.get(name) != before[name] and name != case.replaceable)
    temporary = [name for name in new if is_temporary(name)]
    found = []
    if changed:
        found.append(
            Finding(
                "input_changed",
                f"{case.command} changed or removed a file it was given",
                ", ".join(changed),
            )
        )
    if temporary:
        found.append(Finding("temp_left", f"{case.command} left temporary files", ", ".join(temporary)))
    written = [name for name in new if not is_temporary(name) and not is_record(name, after)]
    if result.code != 0 and written:
        found.append(
            Finding(
                "output_after_failure",
                f"{case.command} failed but wrote files",
                ", ".join(written),
            )
        )
    return found


def output_findings(case: CliCase, new: set[str], after: dict[str, str], folder: Path) -> list[Finding]:
    """A successful run's outputs: present (except for info) and readable as images."""
    files = [name for name in new if after[name] not in ("dir", "special")]
    outputs = sorted(name for name in files if not is_temporary(name) and not is_record(name, after))
    if case.writes_file and not outputs:
        return [Finding("bad_output", f"{case.command} succeeded without writing an output", "")]
    found = []
    for name in outputs:
        try:
            with Image.open(folder / name) as picture:
                picture.load()
        except Exception as error:  # the output is no image any reader opens
            found.append(Finding("bad_output", f"{case.command} wrote an unreadable file", f"{name}: {error}"))
    return found
