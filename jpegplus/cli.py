"""The ``jpegplus`` command: a thin layer that parses, calls the library and reports."""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError, JpegPlusError, OutputError
from jpegplus.modes import Mode

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Neural networks around JPEG, JPEG 2000, WebP and AVIF; every file written is a standard file.",
)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".avif", ".jp2", ".tif", ".tiff", ".bmp", ".ppm", ".pgm"}

Inputs = Annotated[list[Path], typer.Argument(help="image files or folders (searched recursively)")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="output file (one input only)")]
OutDir = Annotated[Optional[Path], typer.Option("--out-dir", help="folder for the outputs of several inputs")]
Force = Annotated[bool, typer.Option("--force", help="replace existing outputs (never an input)")]
Quality = Annotated[int, typer.Option("--quality", "-q", min=1, max=100, help="the codec's own 1–100 quality")]
Device = Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, … (default: CUDA if torch sees one)")]


def fail(message: str) -> None:
    """One line on stderr."""
    print(f"jpegplus: error: {message}", file=sys.stderr)


@contextmanager
def reported() -> Iterator[None]:
    """Turn jpegplus errors into one stderr line and exit code 1, never a traceback."""
    try:
        yield
    except JpegPlusError as error:
        fail(str(error))
        raise typer.Exit(code=1) from None


def parse_size(text: str) -> int:
    """``40KB``, ``1.5MB``, ``30000`` → bytes (KB = 1000 bytes, KiB = 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|KIB|MB|MIB)?\s*", text.upper())
    if found is None or float(found.group(1)) < 1:
        msg = f"cannot read size {text!r}; use e.g. 40KB, 1.5MB or 30000 (bytes)"
        raise InvalidOptionError(msg)
    units = {None: 1, "B": 1, "KB": 1000, "KIB": 1024, "MB": 1000**2, "MIB": 1024**2}
    return int(float(found.group(1)) * units[found.group(2)])


def expand(inputs: list[Path]) -> list[tuple[Path, Path]]:
    """(file, name relative to the given argument) for every image file; folders are searched."""
    found = []
    for given in inputs:
        if given.is_dir():
            files = sorted(p for p in given.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            found.extend((path, path.relative_to(given)) for path in files)
        else:
            found.append((given, Path(given.name)))
    return found


def plan_outputs(
    inputs: list[Path], output: Path | None, out_dir: Path | None, name: Callable[[Path], Path]
) -> list[tuple[Path, Path]]:
    """Pair every input file with its output path."""
    files = expand(inputs)
    if not files:
        msg = "no input images found"
        raise OutputError(msg)
    if output is not None:
        if len(files) > 1 or out_dir is not None:
            msg = "-o/--output takes exactly one input; use --out-dir for several"
            raise OutputError(msg)
        return [(files[0][0], output)]
    if out_dir is not None:
        return [(path, out_dir / name(relative)) for path, relative in files]
    return [(path, path.parent / name(Path(path.name))) for path, _ in files]


def run_batch(jobs: list[tuple[Path, Path]], work: Callable[[bytes, Path], bytes], force: bool) -> None:
    """Read, process and atomically write each job; a progress bar for several; exit 1 if any failed."""
    from rich.progress import Progress

    from jpegplus.io import read_file, write_atomic

    inputs = tuple(path for path, _ in jobs)
    failures = 0
    with Progress(transient=True, disable=len(jobs) < 2) as progress:
        task = progress.add_task("jpegplus", total=len(jobs))
        for source, target in jobs:
            try:
                if target.exists() and not force:
                    msg = f"{target} exists; pass --force to replace it"
                    raise OutputError(msg)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(target, work(read_file(source), target), force=force, inputs=inputs)
            except JpegPlusError as error:
                failures += 1
                message = str(error)
                fail(message if str(source) in message else f"{source}: {message}")
            except OSError as error:
                failures += 1
                fail(f"{source}: {error.strerror or error}")
            progress.advance(task)
    if failures:
        raise typer.Exit(code=1)


@app.command()
def compress(
    inputs: Inputs,
    output: Output = None,
    out_dir: OutDir = None,
    codec: Annotated[CodecName, typer.Option("--codec", "-c")] = CodecName.JPEG,
    quality: Quality = 75,
    mode: Annotated[Mode, typer.Option("--mode", "-m")] = Mode.AUTO,
    target_size: Annotated[
        Optional[str], typer.Option(help="largest file size, e.g. 40KB, 1.5MB or 30000 (bytes)")
    ] = None,
    target_psnr: Annotated[Optional[float], typer.Option(min=10, max=80, help="PSNR (dB) to reach")] = None,
    saliency: Annotated[bool, typer.Option("--saliency", help="more bits where people look")] = False,
    save_saliency: Annotated[
        Optional[Path], typer.Option(help="write the saliency map of the (one) input as a PNG")
    ] = None,
    force: Force = False,
    device: Device = None,
) -> None:
    """Compress images into standard files (any viewer opens them) that jpegplus decodes better."""
    from jpegplus.codecs import get_codec
    from jpegplus.pipeline import compress as compress_image

    with reported():
        size_limit = parse_size(target_size) if target_size is not None else None
        extension = get_codec(codec.value).extension
        jobs = plan_outputs(inputs, output, out_dir, lambda p: p.with_suffix(f".jpegplus{extension}"))

        def work(data: bytes, _: Path) -> bytes:
            return compress_image(
                data,
                codec=codec.value,
                quality=quality,
                mode=mode.value,
                device=device,
                target_size=size_limit,
                target_psnr=target_psnr,
                saliency=saliency,
            )

        run_batch(jobs, work, force)
        if save_saliency is not None:
            from jpegplus.io import load_image, read_file, write_atomic
            from jpegplus.saliency import saliency_png

            picture = load_image(read_file(jobs[0][0])).pixels
            write_atomic(save_saliency, saliency_png(picture), force=force, inputs=(jobs[0][0],))


@app.command()
def decompress(
    inputs: Inputs, output: Output = None, out_dir: OutDir = None, force: Force = False, device: Device = None
) -> None:
    """Decode jpegplus files to full-size images (PNG unless -o names another format)."""
    from jpegplus.io import encode_picture
    from jpegplus.pipeline import decompress_image

    with reported():
        jobs = plan_outputs(inputs, output, out_dir, lambda p: Path(p.name.split(".")[0] + ".png"))
        run_batch(
            jobs, lambda data, target: encode_picture(decompress_image(data, device=device), target.suffix), force
        )


class OutputFormat(str, enum.Enum):
    """Output formats of enhance."""

    PNG = "png"
    JPEG = "jpeg"


@app.command()
def enhance(
    inputs: Inputs,
    output: Output = None,
    out_dir: OutDir = None,
    strength: Annotated[
        Optional[int], typer.Option(min=1, max=100, help="override the JPEG quality read from the file")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.PNG,
    quality: Quality = 95,
    force: Force = False,
    device: Device = None,
) -> None:
    """Remove blocking, ringing and colour bleeding from ordinary JPEGs."""
    from jpegplus.codecs import get_codec
    from jpegplus.io import encode_picture
    from jpegplus.pipeline import enhance_image

    suffix = ".png" if output_format is OutputFormat.PNG else ".jpg"

    def work(data: bytes, target: Path) -> bytes:
        result = enhance_image(data, strength=strength, device=device)
        if output_format is OutputFormat.JPEG:
            return get_codec("jpeg").encode(result.pixels, quality, exif=result.exif, icc=result.icc)
        return encode_picture(result, target.suffix)

    with reported():
        run_batch(plan_outputs(inputs, output, out_dir, lambda p: p.with_suffix(f".enhanced{suffix}")), work, force)


@app.command()
def info(file: Annotated[Path, typer.Argument(help="an image file")]) -> None:
    """Show a file's codec, size, jpegplus metadata and, for a JPEG, its estimated quality."""
    from jpegplus.inspect import describe
    from jpegplus.io import read_file

    with reported():
        for key, value in describe(read_file(file)).items():
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
    architecture: Annotated[
        str, typer.Option(help="artifact model: LeanRestoreNet (shipped), RestoreNet or RecCNN (the paper's)")
    ] = "LeanRestoreNet",
    down_architecture: Annotated[
        str, typer.Option(help="half-resolution model: LeanRestoreNet (shipped), RestoreNet or RecCNN (the paper's)")
    ] = "LeanRestoreNet",
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
    from jpegplus.training import start
    from jpegplus.training.config import TrainConfig, parse_plan, parse_qualities

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
    except (ValueError, JpegPlusError) as error:
        fail(str(error))
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


@app.command("bench-speed")
def bench_speed(
    dataset: Annotated[Path, typer.Argument(help="folder of images to time (Kodak)")],
    out: Annotated[Path, typer.Option("--out", help="folder for results.json and README.md")],
    variants: Annotated[str, typer.Option(help="runtime-precision[-isa], e.g. openvino-bf16,torch-fp32-avx2")] = "",
    megapixels: Annotated[float, typer.Option(min=0, max=150, help="the large image's size; 0 skips it")] = 24.0,
    limit: Annotated[Optional[int], typer.Option(min=1, help="only the first N images")] = None,
) -> None:
    """Per runtime and precision: ms per image (decompress, enhance), MP/s and memory, first-call ms, GMAC/s."""
    from jpegplus.bench.speed import parse_variants, run_speed

    with reported():
        for line in run_speed(dataset, out, parse_variants(variants), limit, megapixels):
            print(line)


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


def main() -> None:
    """Console-script entry point: usage errors, too, are one line on stderr (exit code 2)."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        fail("interrupted")
        code = 130
    except typer.TyperException as error:  # usage errors: bad option values, unknown commands
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        fail(" ".join(message.split()))
        code = getattr(error, "exit_code", 2)
    sys.exit(code if isinstance(code, int) else 0)
