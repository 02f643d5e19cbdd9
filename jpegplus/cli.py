"""The ``jpegplus`` command: a thin layer that parses, calls the library and reports.

Nothing heavy is imported at start-up (torch, Ray): ``jpegplus --help`` answers at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from jpegplus import __version__
from jpegplus.batch.console import NORMAL, QUIET, configure_logging, say
from jpegplus.batch.naming import STDIO
from jpegplus.batch.options import Operation, Options, PictureFormat
from jpegplus.batch.runner import Engine
from jpegplus.batch.worker import describe_error
from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError, JpegPlusError
from jpegplus.modes import Mode
from jpegplus.options import DEFAULT_MAX_PIXELS

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Neural networks around JPEG, JPEG 2000, WebP and AVIF; every file written is a standard file.",
)


def parse_size(text: str) -> int:
    """``40KB``, ``1.5MB``, ``30000`` → bytes (KB = 1000 bytes, KiB = 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|KIB|MB|MIB)?\s*", text.upper())
    if found is None or float(found.group(1)) < 1:
        msg = f"cannot read size {text!r}; use e.g. 40KB, 1.5MB or 30000 (bytes)"
        raise typer.BadParameter(msg)
    units = {None: 1, "B": 1, "KB": 1000, "KIB": 1024, "MB": 1000**2, "MIB": 1024**2}
    return int(float(found.group(1)) * units[found.group(2)])


Inputs = Annotated[list[Path], typer.Argument(help="image files or folders (searched recursively); '-' reads stdin")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="output file (one input); '-' is stdout")]
OutDir = Annotated[
    Optional[Path], typer.Option("--out-dir", help="folder for the outputs (keeps the tree) and the manifest")
]
Force = Annotated[bool, typer.Option("--force", help="replace existing outputs (never an input)")]
SkipExisting = Annotated[bool, typer.Option("--skip-existing", help="leave inputs whose output exists (re-runs)")]
Quality = Annotated[int, typer.Option("--quality", "-q", min=1, max=100, help="the codec's own 1–100 quality")]
Device = Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, … (default: CUDA if torch sees one)")]
EngineOpt = Annotated[Engine, typer.Option("--engine", help="local processes, or a Ray cluster")]
Jobs = Annotated[
    Optional[int], typer.Option("--jobs", "-j", min=1, help="local worker processes (default: one per core)")
]
Address = Annotated[Optional[str], typer.Option("--address", help="Ray cluster: auto or ray://HOST:10001")]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="Ray actors (default: one per cluster CPU)")]
Quiet = Annotated[bool, typer.Option("--quiet", help="errors only: no progress, warnings or summary")]
Verbose = Annotated[int, typer.Option("--verbose", "-v", count=True, help="more messages (-vv: debug)")]
MaxPixels = Annotated[
    int, typer.Option(min=1, help="refuse larger images (stored or claimed by the file), before decoding")
]
PictureFormatOpt = Annotated[
    Optional[PictureFormat], typer.Option("--format", help="picture format (default: from -o's name, else png)")
]
PictureQuality = Annotated[int, typer.Option("--quality", "-q", min=1, max=100, help="JPEG quality of --format jpeg")]


@contextmanager
def reported(source: Path | None = None) -> Iterator[None]:
    """Turn jpegplus errors into one stderr line (naming ``source``): exit code 2 for bad options, 1 otherwise."""
    try:
        yield
    except JpegPlusError as error:
        say("error", str(error) if source is None else describe_error(error, source))
        raise typer.Exit(code=2 if isinstance(error, InvalidOptionError) else 1) from None


def verbosity(ctx: typer.Context, quiet: bool, verbose: int) -> int:
    """The command's ``--quiet``/``-v`` on top of the ones before the command."""
    before = NORMAL if ctx.obj is None else ctx.obj
    level = QUIET if quiet else verbose or before
    configure_logging(level)
    return level


def show_version(wanted: bool) -> None:
    """``--version``: print and stop."""
    if wanted:
        print(f"jpegplus {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="print the version and exit")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="errors only (before the command)")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more messages")] = 0,
) -> None:
    """Options before the command: ``jpegplus -q compress …`` (after it, ``-q`` is --quality)."""
    ctx.obj = QUIET if quiet else verbose


def run_files(ctx: typer.Context, options: Options, level: int) -> None:
    """Run the command's batch (its parameters: ``ctx.params``) with a progress bar, one line per
    failure and a summary line; exit 1 if any file failed."""
    from jpegplus.batch import run
    from jpegplus.batch.console import Display

    given = ctx.params
    engine, jobs = given["engine"], given["jobs"]
    if engine is Engine.LOCAL and (given["address"] or given["workers"]):
        msg = "--address and --workers are options of --engine ray"
        raise InvalidOptionError(msg)
    if engine is Engine.RAY and jobs:
        msg = "--jobs sets local processes; with --engine ray use --workers"
        raise InvalidOptionError(msg)
    if (given["output"] == STDIO or given["inputs"] == [STDIO] and given["output"] is None) and sys.stdout.isatty():
        msg = "refusing to write image data to a terminal; redirect standard output or give -o FILE"
        raise InvalidOptionError(msg)
    display = Display(enabled=level > QUIET)
    with display.shown(tiles=engine is Engine.LOCAL and jobs in (None, 1)):
        summary = run(
            given["inputs"],
            options,
            output=given["output"],
            out_dir=given["out_dir"],
            saliency_map=given.get("save_saliency"),
            force=given["force"],
            skip_existing=given["skip_existing"],
            engine=engine,
            jobs=jobs,
            address=given["address"],
            workers=given["workers"],
            on_start=display.start,
            on_record=display.finished,
        )
    if level > QUIET and summary.done + summary.failed + summary.skipped > 1:
        say("summary", summary.line())
    if summary.failed:
        raise typer.Exit(code=1)


@app.command()
def compress(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    out_dir: OutDir = None,
    codec: Annotated[
        Optional[CodecName], typer.Option("--codec", "-c", help="default: from -o's name, else jpeg")
    ] = None,
    quality: Quality = 75,
    mode: Annotated[Mode, typer.Option("--mode", "-m")] = Mode.AUTO,
    target_size: Annotated[
        Optional[int],
        typer.Option(parser=parse_size, metavar="SIZE", help="largest file size, e.g. 40KB, 1.5MB or 30000 (bytes)"),
    ] = None,
    target_psnr: Annotated[Optional[float], typer.Option(min=10, max=80, help="PSNR (dB) to reach")] = None,
    saliency: Annotated[bool, typer.Option("--saliency", help="more bits where people look")] = False,
    allow_half_size: Annotated[
        bool, typer.Option("--allow-half-size", help="let auto write a half-size file where that is better")
    ] = False,
    save_saliency: Annotated[
        Optional[Path], typer.Option(help="write the saliency map of the (one) input as a PNG")
    ] = None,
    force: Force = False,
    skip_existing: SkipExisting = False,
    engine: EngineOpt = Engine.LOCAL,
    jobs: Jobs = None,
    address: Address = None,
    workers: Workers = None,
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS,
    device: Device = None,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Compress images into standard files (any viewer opens them) that jpegplus decodes better."""
    from jpegplus.batch.naming import codec_for_output

    level = verbosity(ctx, quiet, verbose)
    with reported():
        if save_saliency is not None and save_saliency.suffix.lower() != ".png":
            msg = f"--save-saliency writes a PNG; name it .png, not {save_saliency.name!r}"
            raise InvalidOptionError(msg)
        chosen = codec_for_output(output, codec) if output is not None else codec or CodecName.JPEG
        options = Options(
            Operation.COMPRESS,
            codec=chosen,
            quality=quality,
            mode=mode.value,
            target_size=target_size,
            target_psnr=target_psnr,
            saliency=saliency,
            allow_half_size=allow_half_size,
            max_pixels=max_pixels,
            device=device,
        )
        run_files(ctx, options, level)


@app.command()
def decompress(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    out_dir: OutDir = None,
    output_format: PictureFormatOpt = None,
    quality: PictureQuality = 95,
    force: Force = False,
    skip_existing: SkipExisting = False,
    engine: EngineOpt = Engine.LOCAL,
    jobs: Jobs = None,
    address: Address = None,
    workers: Workers = None,
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS,
    device: Device = None,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Decode jpegplus files to full-size pictures (PNG unless -o or --format says otherwise)."""
    level = verbosity(ctx, quiet, verbose)
    with reported():
        options = Options(
            Operation.DECOMPRESS,
            max_pixels=max_pixels,
            device=device,
            **picture_options(output, output_format, quality),
        )
        run_files(ctx, options, level)


@app.command()
def enhance(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    out_dir: OutDir = None,
    strength: Annotated[
        Optional[int], typer.Option(min=1, max=100, help="override the JPEG quality read from the file")
    ] = None,
    output_format: PictureFormatOpt = None,
    quality: PictureQuality = 95,
    force: Force = False,
    skip_existing: SkipExisting = False,
    engine: EngineOpt = Engine.LOCAL,
    jobs: Jobs = None,
    address: Address = None,
    workers: Workers = None,
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS,
    device: Device = None,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Remove blocking, ringing and colour bleeding from JPEGs, and from pixels that were once a JPEG."""
    level = verbosity(ctx, quiet, verbose)
    with reported():
        options = Options(
            Operation.ENHANCE,
            strength=strength,
            max_pixels=max_pixels,
            device=device,
            **picture_options(output, output_format, quality),
        )
        run_files(ctx, options, level)


def picture_options(output: Path | None, chosen: PictureFormat | None, quality: int) -> dict[str, object]:
    """``picture_format`` (checked against -o's name before any work) and ``picture_quality``."""
    from jpegplus.batch.naming import picture_format_for_output

    picture = picture_format_for_output(output, chosen) if output is not None else chosen or PictureFormat.PNG
    return {"picture_format": picture, "picture_quality": quality}


@app.command()
def info(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="an image file, or '-' for standard input")],
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Show a file's codec, size, jpegplus metadata and, for a JPEG, its estimated quality."""
    from jpegplus.batch.worker import read_input
    from jpegplus.inspect import describe

    verbosity(ctx, quiet, verbose)
    with reported(file):
        for key, value in describe(read_input(file)).items():
            print(f"{key}: {value}")


@app.command()
def train(
    run: Annotated[Path, typer.Option(help="run folder: cached patches, checkpoints, train.log")],
    data: Annotated[Path, typer.Option(help="folder of training PNGs")],
    plan: Annotated[str, typer.Option(help="stages KIND:MINUTES (artifacts, down-rec, down-com)")] = (
        "artifacts:45,down-rec:20,down-com:8,down-rec:15"
    ),
    threads: Annotated[int, typer.Option(min=1)] = 2,
    from_weights: Annotated[bool, typer.Option(help="start a new run from the installed weights")] = False,
    architecture: Annotated[str, typer.Option(help="artifact model: RecCNN, RestoreNet or LeanRestoreNet")] = "RecCNN",
    down_architecture: Annotated[
        str, typer.Option(help="half-resolution model: RecCNN, RestoreNet or LeanRestoreNet")
    ] = "RecCNN",
    patch: Annotated[int, typer.Option(min=32, help="training patch side in pixels")] = 128,
    learning_rate: Annotated[float, typer.Option(help="peak learning rate of each stage")] = 3e-4,
    artifact_crops: Annotated[int, typer.Option(min=1, help="crops per codec encode of a photo")] = 5,
    artifact_encodes: Annotated[int, typer.Option(min=1, help="random codec encodes per photo")] = 8,
    codec: Annotated[str, typer.Option(help="codec whose decodes the artifact model learns to repair")] = "jpeg",
    seed: Annotated[int, typer.Option(help="seed of the crops, codec qualities and batches")] = 0,
    artifact_qualities: Annotated[
        str, typer.Option(help="codec quality range LOW-HIGH of the artifact pairs")
    ] = "5-95",
    loss: Annotated[str, typer.Option(help="charbonnier (L1-like) or mse (what PSNR measures)")] = "charbonnier",
    legacy: Annotated[
        bool, typer.Option(help="JPEG pairs as people have them (re-compressed, shifted, resized, jpegli): enhance")
    ] = False,
) -> None:
    """Train (or resume) the JPEG models in the alternating ComCNN/RecCNN scheme."""
    from jpegplus.training.__main__ import start
    from jpegplus.training.loop import TrainConfig, parse_plan, parse_qualities

    try:
        config = TrainConfig(
            data_dir=str(data),
            plan=parse_plan(plan),
            patch=patch,
            learning_rate=learning_rate,
            artifact_crops=artifact_crops,
            artifact_encodes=artifact_encodes,
            artifact_architecture=architecture,
            down_architecture=down_architecture,
            codec=codec,
            seed=seed,
            artifact_qualities=parse_qualities(artifact_qualities),
            loss=loss,
            legacy=legacy,
        )
        start(run, config, threads, from_weights=from_weights)
    except ValueError as error:
        say("error", str(error))
        raise typer.Exit(code=1) from None


@app.command()
def bench(
    dataset: Annotated[Path, typer.Argument(help="folder of reference images (PNG)")],
    out: Annotated[Path, typer.Option("--out", help="folder for results.json, plots and report.html")],
    codecs: Annotated[str, typer.Option(help="comma-separated codecs")] = "jpeg",
    modes: Annotated[str, typer.Option(help="comma-separated jpegplus modes ('' for none)")] = "downsample,full",
    enhance: Annotated[bool, typer.Option("--enhance", help="add plain JPEG + enhance")] = False,
    qualities: Annotated[str, typer.Option(help="comma-separated quality grid")] = "5,10,20,30,40,50,60,75,90,95",
    limit: Annotated[Optional[int], typer.Option(min=1, help="only the first N images")] = None,
    readme: Annotated[Optional[Path], typer.Option(help="also put the headline table into this README")] = None,
) -> None:
    """Rate-distortion and speed benchmark with BD-rates, plots and an HTML report."""
    from jpegplus.bench.main import run_bench

    with reported():
        for line in run_bench(dataset, out, codecs, modes, enhance, qualities, limit, readme):
            print(line)


@app.command("bench-large")
def bench_large(
    megapixels: Annotated[float, typer.Option(min=0.1, max=150)] = 24.0,
    codec: Annotated[CodecName, typer.Option("--codec", "-c")] = CodecName.JPEG,
    mode: Annotated[Mode, typer.Option("--mode", "-m")] = Mode.DOWNSAMPLE,
    quality: Quality = 50,
) -> None:
    """Time and peak memory of compress + decompress on one large synthetic photo."""
    from jpegplus.bench.large import measure_large

    with reported():
        for key, value in measure_large(megapixels, codec.value, mode.value, quality).items():
            print(f"{key}: {value:.2f}" if isinstance(value, float) else f"{key}: {value}")


@app.command("bench-saliency")
def bench_saliency(
    dataset: Annotated[Path, typer.Argument(help="folder of reference images (PNG)")],
    out: Annotated[Path, typer.Option("--out", help="folder for saliency.json and pictures")],
    qualities: Annotated[str, typer.Option(help="uniform JPEG qualities to match in size")] = "30,60",
    limit: Annotated[Optional[int], typer.Option(min=1, help="only the first N images")] = None,
) -> None:
    """Saliency-guided JPEG against uniform JPEG at equal size: salient-25% PSNR and MS-SSIM."""
    import json

    from jpegplus.bench.saliency_bench import run_saliency_bench

    out.mkdir(parents=True, exist_ok=True)
    grid = tuple(int(q) for q in qualities.split(","))
    results = run_saliency_bench(dataset, out, grid, limit)
    (out / "saliency.json").write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results["summary"], indent=1))


@app.command("bench-batch")
def bench_batch(
    kodak: Annotated[Path, typer.Option(help="folder of Kodak PNGs")] = Path("../shared/datasets/kodak"),
    photos: Annotated[Path, typer.Option(help="photos tiled into the large images")] = Path("../shared/datasets/train"),
    out: Annotated[Path, typer.Option(help="folder for results.json and cpu.txt")] = Path("benchmarks/batch"),
    operation: Annotated[Operation, typer.Option(help="what the batches do")] = Operation.DECOMPRESS,
    large: Annotated[int, typer.Option(min=0, help="how many 12-megapixel mosaics")] = 4,
) -> None:
    """Batch throughput (images/s, MP/s, CPU use): sequential, --jobs and --engine ray; run it on an idle machine."""
    from jpegplus.batch.bench import run_batch_bench

    with reported():
        for result in run_batch_bench(kodak, photos, out, operation, large=large):
            print(
                f"{result.dataset:6} {result.setting:38} {result.images_per_s:7.3f} images/s "
                f"{result.megapixels_per_s:6.2f} MP/s  CPU {result.cpu_busy:.0%}  ({result.seconds} s)"
            )


def main() -> None:
    """Console-script entry point: usage errors, too, are one line on stderr (exit code 2)."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        say("error", "interrupted")
        code = 130
    except typer.TyperException as error:  # usage errors: bad option values, unknown commands
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        say("error", " ".join(message.split()))
        code = getattr(error, "exit_code", 2)
    sys.exit(code if isinstance(code, int) else 0)
