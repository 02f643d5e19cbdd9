"""Fuzzing within CI's budget (issue #18): the fuzzer's own parts, a fixed-seed slice of the campaign, the corpus.

The long campaign is ``scripts/fuzz.py``; these tests run the same machinery with a fixed seed and
a few hundred cases: hypothesis on the API's arguments (in this process), mutated files through
the API (in a supervised worker: a crash, hang or memory overrun is a finding, not a dead test
run), the real CLI in child processes, and every reproducer committed under tests/fuzz_corpus/.
A failure that matches an entry still marked ``open`` in the corpus is known and tolerated.
"""

from __future__ import annotations

import io
import random
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from PIL import Image

from fuzzing import corpus
from fuzzing.api import ApiCase, build_case, run_case
from fuzzing.commands import CliCase, build_cli_case, check, execute
from fuzzing.mutate import OPERATORS, mutate, payload_edit, with_claimed_size
from fuzzing.payload import payload_fields, write_binary
from fuzzing.picking import FAILURE_KINDS, Finding, RandomPicker
from fuzzing.seeds import HEAVY, SeedSet, build_seeds, pillow, write_seeds
from fuzzing.structure import payload_spot, replace_payload
from fuzzing.supervise import GB, ApiWorker, Limits, Run, run
from fuzzing.values import Value

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # the test extra brings it (scripts/install.sh); without it only the hypothesis test skips
    st = None

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
SEED = "ci-1"  # the slice of the campaign CI runs; scripts/fuzz.py --seed ci-1 repeats it and goes on
API_CASES = 120  # mutated files and odd arguments through the supervised worker
CLI_CASES = 5  # real CLI runs (each starts Python and torch: about 3 s)
EXAMPLES = 20  # hypothesis examples per API function
LIMITS = Limits()  # 20 s, 2 GB: issue #18's bounds
SLOW = list(HealthCheck) if st is not None else []  # a case runs networks in a worker: slow by hypothesis' measure
ENTRIES = corpus.load()
OPEN = corpus.known_open(ENTRIES)


class HypothesisPicker:
    """A case's choices drawn by hypothesis, which can then shrink a failing case."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def choice(self, options: Sequence[T]) -> T:
        index = self.data.draw(st.integers(0, len(options) - 1))  # an index: short reports, shrinks to the first
        return options[index]

    def chance(self, probability: float) -> bool:
        return self.data.draw(st.integers(0, 99)) >= round((1 - probability) * 100)  # shrinks toward False

    def number(self) -> int:
        return self.data.draw(st.integers(0, 2**32 - 1))


@pytest.fixture(scope="module")
def seeds() -> SeedSet:
    replayed = {entry.input for entry in ENTRIES}
    heavy = [name for name in HEAVY if f"seed:{name}" in replayed]  # encoding a heavy seed takes seconds
    return build_seeds(heavy=heavy, corpus=corpus.CORPUS)


@pytest.fixture(scope="module")
def worker(seeds: SeedSet, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("fuzz")
    write_seeds(seeds, folder / "seeds")
    (folder / "work").mkdir()
    running = ApiWorker(
        target=ROOT, seeds_dir=folder / "seeds", seed=SEED, workdir=folder / "work", limits=LIMITS, hostile=True
    )
    yield running
    running.stop()


def ask(worker: ApiWorker, case: ApiCase, folder: Path) -> list[Finding]:
    """The findings of ``case``, run by the worker."""
    path = folder / "input"
    path.write_bytes(case.source.data or b"")
    answer = worker.ask({"id": case.describe(), "spec": case.spec(), "file": str(path)})
    return [Finding(**f) for f in answer["findings"]]


def explain(failures: list[tuple[str, Finding]]) -> str:
    """Failures as lines: kind, signature, the case, the detail."""
    return "\n".join(f"{f.kind}: {f.signature}\n  {case}\n  {f.detail[:300]}" for case, f in failures)


def verdict(failures: list[tuple[str, Finding]]) -> None:
    """Fail on findings no open corpus entry explains; mark the test xfail when only known ones showed."""
    unknown = [(case, f) for case, f in failures if corpus.unexplained([f], OPEN)]
    assert not unknown, explain(unknown)
    if failures:
        examples = {f"{f.kind}: {f.signature}": case for case, f in failures}
        pytest.xfail("known open: " + "; ".join(f"{cause} (e.g. {case})" for cause, case in sorted(examples.items())))


# --- the fuzzer's own parts --------------------------------------------------------------------


def test_seeds_cover_every_codec_and_mode_with_a_payload_where_the_fuzzer_looks(seeds: SeedSet) -> None:
    made = {seed.name: seed.data for seed in seeds.seeds if "jpegplus" in seed.tags}
    for codec in ("jpeg", "webp", "avif", "jpeg2000"):
        for mode in ("full", "downsample"):
            name = next(n for n in made if n.startswith(f"jpegplus-{codec}-{mode}."))
            fields = payload_fields(made[name])
            assert fields is not None, name
            assert fields["flags"] & 1 == (mode == "downsample") and (fields["width"], fields["height"]) == (40, 24)
    assert not seeds.refused


def test_mutations_are_seeded_and_every_operator_changes_every_container(seeds: SeedSet) -> None:
    files = {seed.name: seed.data for seed in seeds.seeds}
    donors = list(files.values())
    for name in ("jpegplus-jpeg-full.jpg", "jpegplus-webp-full.webp", "jpegplus-avif-full.avif", "plain-rgb.png"):
        data = files[name]
        assert mutate(data, random.Random(5), donors) == mutate(data, random.Random(5), donors)
        for operator in OPERATORS:
            if operator is payload_edit and payload_spot(data) is None:
                continue  # a plain file has no payload to edit (payload_transplant gives it one)
            changed = [operator(data, random.Random(k), donors)[0] != data for k in range(8)]
            assert any(changed), (name, operator.__name__)


def test_payload_edits_keep_lengths_right_so_the_library_reads_the_edit(seeds: SeedSet) -> None:
    from jpegplus import payload as jpegplus_payload

    for seed in seeds.seeds:
        if "jpegplus" in seed.tags and "format1" not in seed.name:
            spot = payload_spot(seed.data)
            assert spot is not None, seed.name
            edited = {**(payload_fields(seed.data) or {}), "width": 13, "height": 3000}
            tampered = replace_payload(seed.data, spot, write_binary(edited))
            metadata = jpegplus_payload.extract(tampered)
            assert metadata is not None and (metadata.width, metadata.height) == (13, 3000), seed.name


@pytest.mark.parametrize("file_format", ["PNG", "JPEG", "WEBP", "JPEG2000"])
def test_claimed_sizes_are_what_readers_see(file_format: str) -> None:
    data = pillow(
        np.zeros((8, 8, 3), np.uint8), file_format, **({"exif": b"Exif\0\0"} if file_format == "WEBP" else {})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert Image.open(io.BytesIO(with_claimed_size(data, 12000, 9000))).size == (12000, 9000)


def test_supervisor_stops_hangs_and_runaway_memory_and_measures_peaks(tmp_path: Path) -> None:
    def child(code: str, limits: Limits) -> Run:
        folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        return run([sys.executable, "-c", code], cwd=folder, env={}, limits=limits)

    assert child("while True: pass", Limits(seconds=1)).stopped == "timeout"  # busy
    grab = "import time; block = b'1' * 600_000_000; time.sleep(60)"
    assert child(grab, Limits(seconds=30, kill_memory=300_000_000)).stopped == "memory"
    measured = child("import time; block = b'1' * 400_000_000; time.sleep(0.5)", LIMITS)
    assert measured.stopped is None and measured.code == 0 and 0.4 * GB < measured.peak_rss < 0.5 * GB
    assert child("import time; time.sleep(60)", Limits(seconds=30, stalled=2)).stopped == "timeout"  # blocked


def test_cli_oracle_names_every_kind_of_failure(tmp_path: Path) -> None:
    case = CliCase("decompress", ["decompress", "in.jpg", "-o", "out.png"], {"in.jpg": b"x"}, "a test")
    before = {"in.jpg": "digest"}

    def kinds(code: int, stderr: str, after: dict[str, str], **run: Any) -> set[str]:
        found = check(case, Run(code, "", stderr, 1.0, 10**8, **run), before, {**before, **after}, tmp_path, LIMITS)
        return {f.kind for f in found}

    traceback = "Traceback (most recent call last):\n  File x\nValueError: no"
    assert kinds(1, traceback, {}) == {"exit_code", "traceback"}
    assert kinds(1, "jpegplus: error: bad\nmore\n", {}) == {"exit_code", "stderr_lines"}
    assert kinds(3, "jpegplus: error: bad", {}) == {"exit_code"}
    assert kinds(0, "Corrupt JPEG data: 4 extraneous bytes", {"out.png": "d"}) == {"noise_on_success", "bad_output"}
    assert kinds(0, "EXIF over 64 KB is left out", {"out.png": "d"}) == {"warning_on_success", "bad_output"}
    assert kinds(0, "", {}) == {"bad_output"}
    assert kinds(0, "", {"$TMPDIR/tmpab": "d"}) == {"temp_left", "bad_output"}
    assert kinds(0, "", {".out.png.x.part": "d", "in.jpg": "other"}) == {"temp_left", "input_changed", "bad_output"}
    assert kinds(-7, "", {}) == {"crash"}
    assert kinds(-9, "", {}, stopped="timeout") == {"hang"}
    assert kinds(-9, "", {}, stopped="memory") == {"memory"}
    case.input_codes = frozenset({1})
    assert kinds(1, "jpegplus: error: bad", {"out.png": "d", "new": "dir"}) == {"output_after_failure"}
    assert kinds(1, "jpegplus: error: bad", {}) == set()


def test_api_oracle_names_every_kind_of_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jpegplus

    def kinds(behaviour: Any, source: str = "photo()", valid: bool | None = None) -> set[str]:
        monkeypatch.setattr(jpegplus, "decompress", behaviour)
        return {f.kind for f in run_case(ApiCase("decompress", Value(source, valid)), tmp_path)}

    def scribble(array: np.ndarray, **_: object) -> np.ndarray:
        array[0, 0] = 1 - array[0, 0]
        return array

    def refuse(*_: object, **__: object) -> None:
        msg = "refused"
        raise jpegplus.InvalidInputError(msg)

    def escape(*_: object, **__: object) -> None:
        msg = "escaped"
        raise TypeError(msg)

    assert kinds(escape) == {"escape"}
    assert kinds(lambda *_, **__: [1]) == {"wrong_result"}
    assert kinds(scribble) == {"input_changed"}
    assert kinds(refuse, valid=True) == {"rejected_valid"}
    assert kinds(lambda *_, **__: np.zeros((2, 2), np.uint8), valid=False) == {"accepted_invalid"}
    assert kinds(refuse, valid=False) == set()
    fifo = ApiCase("decompress", Value("make_fifo(path)", False, data=b""))
    assert run_case(fifo, tmp_path) == []  # the next case's input replaces the FIFO instead of blocking on it
    assert run_case(ApiCase("decompress", Value("data", False, data=b"x")), tmp_path) == []


# --- a fixed-seed slice of the campaign --------------------------------------------------------


@pytest.mark.skipif(st is None, reason="hypothesis is not installed (pip install -e '.[test]')")
@pytest.mark.parametrize("function", ["compress", "decompress", "enhance"])
def test_api_arguments_raise_only_jpegplus_errors(
    function: str, seeds: SeedSet, worker: ApiWorker, tmp_path: Path
) -> None:
    """Hypothesis over every keyword with odd values and types, on the seeds; run by the worker, so a
    crash is a finding too, and hypothesis shrinks what it finds."""
    failures: list[tuple[str, Finding]] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=SLOW)
    @given(st.data())
    def call(data: st.DataObject) -> None:
        case = build_case(HypothesisPicker(data), seeds, mutations=False, functions=[function])
        found = [(case.describe(), f) for f in ask(worker, case, tmp_path) if f.kind in FAILURE_KINDS]
        unknown = [(text, f) for text, f in found if corpus.unexplained([f], OPEN)]
        assert not unknown, explain(unknown)
        failures.extend(found)

    call()
    verdict(failures)


def test_api_on_mutated_and_hostile_inputs(worker: ApiWorker) -> None:
    failures = []
    for index in range(API_CASES):
        answer = worker.ask({"id": index, "index": index})
        failures += [(answer["case"], Finding(**f)) for f in answer["findings"] if f["kind"] in FAILURE_KINDS]
    verdict(failures)


def test_cli_runs(seeds: SeedSet, tmp_path: Path) -> None:
    failures = []
    for index in range(CLI_CASES):
        case = build_cli_case(RandomPicker(random.Random(f"{SEED}:cli:{index}")), seeds)
        result, before, after = execute(case, tmp_path / str(index), ROOT, LIMITS)
        found = check(case, result, before, after, tmp_path / str(index), LIMITS)
        failures += [(case.describe(), f) for f in found if f.kind in FAILURE_KINDS]
    verdict(failures)


# --- the corpus: every failure found, replayed ---------------------------------------------------


def entry_params() -> list[Any]:
    marks = {e.name: [pytest.mark.xfail(strict=True, reason=f"open: {e.open}")] if e.open else [] for e in ENTRIES}
    return [pytest.param(entry, id=entry.name, marks=marks[entry.name]) for entry in ENTRIES]


@pytest.mark.parametrize("entry", entry_params())
def test_corpus(entry: corpus.Entry, seeds: SeedSet, worker: ApiWorker, tmp_path: Path) -> None:
    data = entry.data({seed.name: seed.data for seed in seeds.seeds})
    if entry.api is not None:
        valid = {"ok": True, "error": False, "either": None}[entry.api["expect"]]
        source = Value(entry.api.get("source", "data"), valid, data, note=entry.name)
        keywords = {name: Value(expr, valid) for name, expr in entry.api.get("keywords", {}).items()}
        findings = ask(worker, ApiCase(entry.api["function"], source, keywords), tmp_path)
    else:
        assert entry.cli is not None
        files = (
            {entry.cli.get("input_name", "in" + Path(entry.input or "x.bin").suffix): data} if data is not None else {}
        )
        case = CliCase(entry.cli["words"][0], entry.cli["words"], files, entry.name, frozenset(entry.cli["codes"]))
        case.special = entry.cli.get("special")
        result, before, after = execute(case, tmp_path / "case", ROOT, LIMITS)
        findings = check(case, result, before, after, tmp_path / "case", LIMITS)
    failures = [f for f in findings if f.kind in FAILURE_KINDS]
    assert not failures, "\n".join(f"{f.kind}: {f.signature}\n  {f.detail[:400]}" for f in failures)
