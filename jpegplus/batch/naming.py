"""Which files a batch reads and the one output each writes, decided before any work starts.

Output names (``OUT`` is ``--out-dir`` plus the input's folder below the given folder, or the
input's own folder without ``--out-dir``):

- compress ``trip.day1.png`` -> ``OUT/trip.day1.jpegplus.jpg`` (the codec's extension)
- decompress ``trip.day1.jpegplus.jpg`` -> ``OUT/trip.day1.png`` (only the ``.jpegplus.<ext>`` that
  compress adds is taken off; ``photo.webp`` -> ``photo.png``; ``photo.jpg`` with ``--format jpeg``
  -> ``photo.decompressed.jpg``, never the input's own name)
- enhance ``old.jpg`` -> ``OUT/old.enhanced.png``

Inputs in one folder that differ only in their extension (``a.png`` and ``a.jpg``) keep their whole
name instead: ``a.png.jpegplus.jpg`` and ``a.jpg.jpegplus.jpg``. Any two outputs that still
coincide, or an output that is an input, stop the batch before anything is written.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from jpegplus.batch.options import DEFAULT_SUFFIX, ENHANCE_FORMATS, PILLOW_FORMAT, Operation, Options, PictureFormat
from jpegplus.codecs import get_codec, heif
from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError, OutputError

STDIO = Path("-")
NOT_ACCEPTED = {
    Operation.DECOMPRESS: "not .jpg/.webp/.avif/.jp2",
    Operation.ENHANCE: "not JPEGs",
}  # standard input as a source, standard output as a target
TAG = {Operation.COMPRESS: ".jpegplus", Operation.DECOMPRESS: "", Operation.ENHANCE: ".enhanced"}
SAME_NAME_TAG = ".decompressed"  # where decompress's name would be the input's own (``--format jpeg`` of a .jpg)
# Formats Pillow lists as readable that are no pictures for jpegplus (data containers, video,
# PostScript through Ghostscript, Windows metafiles): not looked for in folders.
NOT_PICTURES = frozenset({"BUFR", "GRIB", "HDF5", "MPEG", "EPS", "WMF"})


@dataclass(frozen=True)
class Job:
    """One input file and the output it becomes (``-`` for standard input or output)."""

    source: Path
    target: Path
    saliency_map: Path | None = None  # compress --save-saliency: written together with the target


@dataclass
class Plan:
    """The jobs to run, and what was left out (reason -> count, and outputs that already exist)."""

    jobs: list[Job]
    ignored: Counter[str] = field(default_factory=Counter)
    existing: list[Job] = field(default_factory=list)


@functools.cache
def readable_formats() -> dict[str, str]:
    """Lower-case extension -> Pillow format, for every format Pillow can open, and HEIF (whose files get their
    one-line error where pillow-heif is missing, rather than being passed over)."""
    from PIL import Image

    opened = Image.registered_extensions().items()
    return heif.EXTENSIONS | {ext: fmt for ext, fmt in opened if fmt in Image.OPEN and fmt not in NOT_PICTURES}


def codec_format(codec: CodecName) -> str:
    """The Pillow format name of a codec's files."""
    return get_codec(codec.value).pillow_format


def accepted(operation: Operation, suffix: str) -> bool:
    """Whether a file found in a folder, by its extension, is an input of ``operation``."""
    pillow_format = readable_formats().get(suffix.lower())
    if operation is Operation.COMPRESS:
        return pillow_format is not None
    if operation is Operation.DECOMPRESS:
        return pillow_format in {codec_format(codec) for codec in CodecName}
    return pillow_format is not None and (ENHANCE_FORMATS is None or pillow_format in ENHANCE_FORMATS)


def codec_for_output(path: Path, codec: CodecName | None) -> CodecName:
    """The codec an explicit ``-o`` file gets: ``--codec``, checked against the name, or read from the name."""
    if path == STDIO:
        return codec or CodecName.JPEG
    named = readable_formats().get(path.suffix.lower())
    by_name = next((name for name in CodecName if codec_format(name) == named), None)
    if codec is None:
        if by_name is None:
            msg = f"cannot tell the codec from the name {path.name!r}; give --codec or a .jpg/.webp/.avif/.jp2 name"
            raise InvalidOptionError(msg)
        return by_name
    if by_name is not codec:
        extension = get_codec(codec.value).extension
        msg = f"--codec {codec.value} writes {extension} files, not {path.name!r}; name it *{extension} or drop --codec"
        raise InvalidOptionError(msg)
    return codec


def picture_format_for_output(path: Path, chosen: PictureFormat | None) -> PictureFormat:
    """The picture format an explicit ``-o`` file gets: ``--format``, checked against the name, or read from it."""
    if path == STDIO:
        return chosen or PictureFormat.PNG
    named = readable_formats().get(path.suffix.lower())
    by_name = next((picture for picture, fmt in PILLOW_FORMAT.items() if fmt == named), None)
    if by_name is None or (chosen is not None and chosen is not by_name):
        wanted = " or ".join(f"*{DEFAULT_SUFFIX[picture]} (--format {picture.value})" for picture in PictureFormat)
        msg = f"cannot write {path.name!r}: pictures are written as {wanted}"
        raise InvalidOptionError(msg)
    return by_name


def output_name(name: str, options: Options, *, whole: bool) -> str:
    """The output file name of an input named ``name`` (see the module docstring)."""
    if options.operation is Operation.COMPRESS:
        suffix = get_codec(options.codec.value).extension
    else:
        suffix = DEFAULT_SUFFIX[options.picture_format]
    base = name
    if options.operation is Operation.DECOMPRESS:
        stem = PurePath(name).stem
        if stem.endswith(TAG[Operation.COMPRESS]) and stem != TAG[Operation.COMPRESS]:
            base = stem.removesuffix(TAG[Operation.COMPRESS]) + PurePath(name).suffix
    if not whole:
        base = PurePath(base).stem
    named = base + TAG[options.operation] + suffix
    if named.lower() == name.lower():  # decompress photo.jpg --format jpeg: never the input's own name
        named = base + SAME_NAME_TAG + suffix
    return named


def find_inputs(
    arguments: list[Path], operation: Operation, skip: Path | None
) -> tuple[list[tuple[Path, Path]], Counter[str]]:
    """(file, folder below the given argument) of every input; folders are searched recursively.

    A file given by name is always an input. In folders only images ``operation`` takes are,
    never jpegplus's own outputs (``*.jpegplus.*`` for compress, ``*.enhanced.*`` for enhance) nor
    anything under ``skip`` (the output folder); the images left out are counted by reason.
    """
    found: list[tuple[Path, Path]] = []
    ignored: Counter[str] = Counter()
    for given in arguments:
        if given == STDIO or not given.is_dir():
            found.append((given, Path()))
            continue
        for folder, subfolders, names in os.walk(given):
            here = Path(folder)
            subfolders[:] = sorted(d for d in subfolders if skip is None or not _same(here / d, skip))
            for name in sorted(names):
                path = here / name
                if path.suffix.lower() not in readable_formats() or not path.is_file():
                    continue
                if TAG[operation] and TAG[operation] + "." in name:
                    ignored[f"{TAG[operation].lstrip('.')} outputs"] += 1
                elif not accepted(operation, path.suffix):
                    ignored[NOT_ACCEPTED[operation]] += 1
                else:
                    found.append((path, here.relative_to(given)))
    return found, ignored


def plan(
    arguments: list[Path],
    options: Options,
    *,
    output: Path | None = None,
    out_dir: Path | None = None,
    saliency_map: Path | None = None,
) -> Plan:
    """Every input with its output; refuses before any work when two outputs coincide or hit an input."""
    if output is not None and out_dir is not None:
        msg = "give -o/--output (one input) or --out-dir (any number), not both"
        raise InvalidOptionError(msg)
    found, ignored = find_inputs(arguments, options.operation, out_dir)
    if not found:
        msg = "no input images found" + (f" ({_describe(ignored)})" if ignored else "")
        raise OutputError(msg)
    if len(found) > 1 and (output is not None or saliency_map is not None or any(s == STDIO for s, _ in found)):
        msg = "-o/--output, --save-saliency and '-' (standard input) take exactly one input; use --out-dir for several"
        raise InvalidOptionError(msg)
    for path in (output, saliency_map):  # a file named into a missing folder fails now, not after the work
        if path is not None and path != STDIO and not path.parent.is_dir():
            msg = f"cannot write {path}: {path.parent} is not an existing folder"
            raise OutputError(msg)
    if output is not None or found[0][0] == STDIO:
        if found[0][0] == STDIO and out_dir is not None:
            msg = "'-' (standard input) writes to -o FILE or standard output, not into --out-dir"
            raise InvalidOptionError(msg)
        jobs = [Job(found[0][0], output or STDIO, saliency_map)]
    else:
        jobs = _named(found, options, out_dir, saliency_map)
    _refuse_overlaps(jobs)
    exists = [job.target != STDIO and job.target.exists() for job in jobs]
    return Plan(
        [job for job, there in zip(jobs, exists, strict=True) if not there],
        ignored,
        [job for job, there in zip(jobs, exists, strict=True) if there],
    )


def _named(
    found: list[tuple[Path, Path]], options: Options, out_dir: Path | None, saliency_map: Path | None
) -> list[Job]:
    """Outputs by the naming rule; inputs whose short names meet in one folder keep their whole names."""
    short = [
        (source, _folder(source, below, out_dir) / output_name(source.name, options, whole=False))
        for source, below in found
    ]
    meeting = Counter(os.path.abspath(target) for _, target in short)
    return [
        Job(
            source,
            target
            if meeting[os.path.abspath(target)] == 1
            else target.with_name(output_name(source.name, options, whole=True)),
            saliency_map,
        )
        for source, target in short
    ]


def _folder(source: Path, below: Path, out_dir: Path | None) -> Path:
    return out_dir / below if out_dir is not None else source.parent


def _refuse_overlaps(jobs: list[Job]) -> None:
    sources = {os.path.abspath(job.source): job.source for job in jobs if job.source != STDIO}
    writers: dict[str, Path] = {}
    for job in jobs:
        for target in (job.target, job.saliency_map):
            if target is None or target == STDIO:
                continue
            key = os.path.abspath(target)
            if key in sources:
                msg = f"{job.source} would be written over the input {sources[key]}; choose another output name"
                raise OutputError(msg)
            if key in writers:
                msg = f"{writers[key]} and {job.source} would both be written to {target}; rename one of them"
                raise OutputError(msg)
            writers[key] = job.source


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _describe(ignored: Counter[str]) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in sorted(ignored.items()))
