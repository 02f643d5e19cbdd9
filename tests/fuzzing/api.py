"""API cases: one call of ``jpegplus.compress``, ``decompress`` or ``enhance`` with fuzzed arguments.

A case is drawn through a :class:`Picker`, so the same builder serves a seeded campaign
(:class:`RandomPicker`) and hypothesis (``HypothesisPicker`` in the tests). Running a case calls
the library in this process and lists what went wrong (:class:`Finding`): an exception that is
not a ``JpegPlusError``, a valid call refused, an invalid one accepted, a wrong result, a caller's
input changed; warnings are noted.
"""

from __future__ import annotations

import io
import random
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fuzzing.mutate import mutate
from fuzzing.picking import Finding, Picker, mostly_valid, normalise
from fuzzing.seeds import Seed, SeedSet, fits
from fuzzing.values import (
    ARRAYS,
    DATA_TYPES,
    HOSTILE_PATHS,
    OTHER_TYPES,
    PATHS,
    PICTURES,
    Value,
    keywords_of,
)

FUNCTIONS = ["compress", "decompress", "enhance"]


@dataclass(frozen=True)
class ApiCase:
    """One call: the function, its first argument and its keywords."""

    function: str
    source: Value
    keywords: dict[str, Value] = field(default_factory=dict)
    seed_tags: frozenset[str] = frozenset()  # of the seed file behind the source, if any

    @property
    def expected(self) -> bool | None:
        """True: must succeed; False: must raise a JpegPlusError; None: either."""
        given = [self.source, *self.keywords.values()]
        targets = [self.keywords[k].expr for k in ("target_size", "target_psnr") if k in self.keywords]
        if any(v.valid is False for v in given) or (len(targets) == 2 and "None" not in targets):
            return False
        return True if all(v.valid for v in given) else None

    def call(self, source: str = "source") -> str:
        """The call as Python source, with the first argument written as ``source``."""
        keywords = "".join(f", {name}={value.expr}" for name, value in self.keywords.items())
        return f"jpegplus.{self.function}({source}{keywords})"

    def reproducer(self, saved: str | None = None) -> str:
        """Python that repeats the case, run in tests/ (``saved``: where the input file was saved)."""
        setup = f"data = open({saved!r}, 'rb').read(); path = {saved!r}; " if self.source.data is not None else ""
        return f"from fuzzing.values import *; import jpegplus; {setup}source = {self.source.expr}; {self.call()}"

    def spec(self) -> dict[str, Any]:
        """The case as JSON-ready data, without the input's bytes (they travel as a file)."""
        source = {"expr": self.source.expr, "valid": self.source.valid, "note": self.source.note}
        keywords = {name: {"expr": value.expr, "valid": value.valid} for name, value in self.keywords.items()}
        return {"function": self.function, "source": source, "keywords": keywords, "seed_tags": sorted(self.seed_tags)}

    def describe(self) -> str:
        """One line: the call and where its input came from."""
        return f"{self.call(self.source.expr)}" + (f"  # {self.source.note}" if self.source.note else "")


def seed_value(seed: Seed, function: str, expr: str = "data") -> Value:
    """A seed's bytes (or a view of them) as the first argument, with the validity its tags imply."""
    documented = expr == "data" or (function == "compress" and "(data)" not in expr)
    return Value(expr, fits(seed, function) if documented else None, seed.data, note=seed.name)


def pick_source(
    pick: Picker, function: str, seeds: SeedSet, *, mutations: bool, hostile: bool
) -> tuple[Value, frozenset[str]]:
    """The first argument of a call, and the tags of the seed it came from."""
    usable = [s for s in seeds.seeds if "heavy" not in s.tags]
    kinds = ["seed"] * 6 + ["mutant"] * (9 if mutations else 0) + ["view"] + ["type"]
    kinds += ["array"] * 3 + ["picture"] * 2 + ["path"] if function == "compress" else []
    kinds += ["hostile"] if hostile and pick.chance(0.05) else []
    kind = pick.choice(kinds)
    if kind in ("seed", "mutant", "view"):
        wanted = [s for s in usable if fits(s, function)]
        seed = pick.choice(wanted if wanted and pick.chance(0.6) else usable)
        if kind == "seed":
            return seed_value(seed, function), seed.tags
        if kind == "view":
            views = ["bytearray(data)", "memoryview(data)", "path", "Path(path)", "io.BytesIO(data)"]
            views += ["Image.open(io.BytesIO(data))"] if function == "compress" and "image" in seed.tags else []
            return seed_value(seed, function, pick.choice(views)), seed.tags
        mutant, steps = mutate(seed.data, random.Random(pick.number()), [s.data for s in usable if s.data])
        return Value("data", None, mutant, note=f"{seed.name} mutated: {steps}"), frozenset()
    groups = {"array": ARRAYS, "picture": PICTURES, "path": PATHS, "hostile": HOSTILE_PATHS}
    group = groups.get(kind, OTHER_TYPES if function == "compress" else DATA_TYPES)
    return pick.choice(group), frozenset()


def build_case(
    pick: Picker,
    seeds: SeedSet,
    *,
    mutations: bool = True,
    hostile: bool = False,
    functions: Sequence[str] = FUNCTIONS,
) -> ApiCase:
    """A random call of one of ``functions``: a first argument, and each keyword with a chance of 40%.

    ``mutations``: also mutated files; ``hostile``: also inputs that block or never end (only for a
    supervised worker).
    """
    function = pick.choice(functions)
    source, tags = pick_source(pick, function, seeds, mutations=mutations, hostile=hostile)
    keywords = {
        name: mostly_valid(pick, options, lambda value: bool(value.valid))
        for name, options in keywords_of(function).items()
        if pick.chance(0.4)
    }
    return ApiCase(function, source, keywords, tags)


def case_from_spec(spec: dict[str, Any], data: bytes | None) -> ApiCase:
    """The case :meth:`ApiCase.spec` describes, its input ``data`` read back from a file."""
    source = Value(data=data, **spec["source"])
    keywords = {name: Value(**value) for name, value in spec["keywords"].items()}
    return ApiCase(spec["function"], source, keywords, frozenset(spec["seed_tags"]))


def fingerprint(value: Any) -> object:
    """What must not change in a caller's input: array contents, a picture's mode, size and pixels.

    ``None`` for anything else, and for a picture opened but not decoded yet (the library decodes it).
    """
    if isinstance(value, np.ndarray):
        return value.shape, value.dtype.str, value.tobytes()
    if isinstance(value, Image.Image) and getattr(value, "fp", None) is None:
        return value.mode, value.size, value.tobytes()
    return None


def escape_signature(error: BaseException) -> str:
    """The exception type and the innermost jpegplus function it passed through."""
    frames = traceback.extract_tb(error.__traceback__)
    inside = [f for f in frames if "/jpegplus/" in f.filename] or frames
    where = f" in {Path(inside[-1].filename).name}:{inside[-1].name}" if inside else ""
    return f"{type(error).__name__}{where}"


def check_result(function: str, result: Any) -> str | None:
    """What is wrong with a successful call's result, or ``None``."""
    if function == "compress":
        if not isinstance(result, bytes) or not result:
            return f"compress returned {type(result).__name__}, not encoded bytes"
        with Image.open(io.BytesIO(result)) as picture:
            if picture.format not in ("JPEG", "WEBP", "AVIF", "JPEG2000"):
                return f"compress wrote a {picture.format} file"
        return None
    if not isinstance(result, np.ndarray) or result.dtype != np.uint8:
        return f"{function} returned {type(result).__name__} {getattr(result, 'dtype', '')}, not a uint8 array"
    if not (result.ndim == 2 or (result.ndim == 3 and result.shape[2] in (2, 3, 4))) or 0 in result.shape:
        return f"{function} returned an array of shape {result.shape}"
    if not result.flags.c_contiguous:
        return f"{function} returned an array that is not C-contiguous"
    return None


def likely_owner(case: ApiCase, kind: str) -> str:
    """Who likely fixes a finding: bombs, the codecs and metadata (a file with good keywords), or argument checks."""
    if kind in ("memory", "bomb_allocated") or case.seed_tags & {"claims-huge", "claims-large"}:
        return "memory/bombs"
    if case.source.data is not None and all(value.valid for value in case.keywords.values()):
        return "codec/metadata"
    return "API argument types"


def run_case(case: ApiCase, workdir: Path) -> list[Finding]:
    """Call the library once and list what went wrong (an unbuildable case lists nothing)."""
    return [replace(f, owner=likely_owner(case, f.kind)) for f in _findings(case, workdir)]


def _findings(case: ApiCase, workdir: Path) -> list[Finding]:
    import jpegplus

    path = None
    if case.source.data is not None:
        path = workdir / "input.bin"
        path.unlink(missing_ok=True)  # it may be the FIFO of an earlier case
        path.write_bytes(case.source.data)
    try:
        source = case.source.make(str(path))
        keywords = {name: value.make() for name, value in case.keywords.items()}
    except Exception:  # the argument itself cannot be built (e.g. Pillow refuses to open it): no call
        return []
    before = fingerprint(source)
    findings, result, refused = [], None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = getattr(jpegplus, case.function)(source, **keywords)
        except jpegplus.JpegPlusError as error:
            refused = error
        except Exception as error:  # the point of the fuzzer: anything else escaped
            detail = f"{type(error).__name__}: {str(error)[:300]}"
            findings.append(Finding("escape", escape_signature(error), detail))
    for warning in caught:
        message = str(warning.message).splitlines()[0][:120] if str(warning.message) else ""
        findings.append(Finding("warning", f"{warning.category.__name__}: {message[:60]}", message))
    if before is not None and fingerprint(source) != before:
        findings.append(Finding("input_changed", f"{case.function} changed its {type(source).__name__} input", ""))
    if path is not None and path.is_file() and path.read_bytes() != case.source.data:
        findings.append(Finding("input_changed", f"{case.function} changed its input file", str(path)))
    if findings and findings[0].kind == "escape":
        return findings
    expected = case.expected
    if refused is not None and expected is True:
        signature = f"{case.function} refused a valid call: {normalise(str(refused))}"
        findings.append(Finding("rejected_valid", signature, f"{str(refused)[:300]}"))
    if refused is None:
        problem = check_result(case.function, result)
        if problem:
            findings.append(Finding("wrong_result", problem, ""))
        elif expected is False:
            wrong = ", ".join(f"{name}={value.expr}" for name, value in case.keywords.items() if value.valid is False)
            signature = f"{case.function} accepted {wrong or 'the invalid input ' + case.source.expr}"
            findings.append(Finding("accepted_invalid", signature, case.source.note))
    return findings
