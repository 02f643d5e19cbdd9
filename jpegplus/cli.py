"""The ``jpegplus`` command: a thin layer that parses, calls the library and reports.

Nothing heavy is imported at start-up (torch, Ray): ``jpegplus --help`` answers at once.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from jpegplus import __version__
from jpegplus.batch.command import FileArgs, Quiet, Verbose, file_command, reported, verbosity
from jpegplus.batch.console import QUIET, say
from jpegplus.batch.options import Operation, Options, PictureFormat
from jpegplus.bench.options import (
    DEFAULT_CODECS,
    DEFAULT_MODES,
    DEFAULT_QUALITIES,
    DEFAULT_TUNES,
    Codecs,
    Modes,
    Qualities,
    Tunes,
    comma_separated,
    parse_codecs,
    parse_modes,
    parse_qualities,
    parse_tunes,
)
from jpegplus.bench.peers import Peers, parse_peers
from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError, JpegPlusError
from jpegplus.heap import return_big_blocks
from jpegplus.modes import Mode, Tune
from jpegplus.options import PICTURE_JPEG_QUALITY, check_passes

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


Quality = Annotated[int, typer.Option("--quality", "-q", min=1, max=100, help="the codec's own 1–100 quality")]
PictureFormatOpt = Annotated[
    Optional[PictureFormat], typer.Option("--format", help="picture format (default: from -o's name, else png)")
]
PictureQuality = Annotated[int, typer.Option("--quality", "-q", min=1, max=100, help="JPEG quality of --format jpeg")]
Passes = Annotated[
    int,
    typer.Option(
        help="average the network over 1, 2, 4 or 8 flips and turns of the picture: a little better "
        "(enhance: about +0.05 / +0.08 / +0.1 dB), that many times the network's time"
    ),
]
ReferenceImages = Annotated[Path, typer.Argument(help="folder of reference images (PNG)")]
FirstImages = Annotated[Optional[int], typer.Option(min=1, help="only the first N images")]


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


@file_command(app)
def compress(
    files: FileArgs,
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
    tune: Annotated[Tune, typer.Option("--tune", help="what --allow-half-size's choice maximises")] = Tune.PSNR,
    background: Annotated[
        Optional[str],
        typer.Option(metavar="COLOR", help="flatten transparency onto this colour (white, #rrggbb) for JPEG"),
    ] = None,
    strip: Annotated[
        bool,
        typer.Option(
            "--strip", help="leave out EXIF (with GPS), XMP, IPTC, comments and text fields; keep the ICC profile"
        ),
    ] = False,
    save_saliency: Annotated[
        Optional[Path], typer.Option(help="write the saliency map of the (one) input as a PNG")
    ] = None,
) -> Options:
    """Compress images into standard files (any viewer opens them) that jpegplus decodes better."""
    from jpegplus.batch.naming import codec_for_output
    from jpegplus.transparency import parse_background

    if save_saliency is not None and save_saliency.suffix.lower() != ".png":
        msg = f"--save-saliency writes a PNG; name it .png, not {save_saliency.name!r}"
        raise InvalidOptionError(msg)
    if background is not None:
        parse_background(background)  # a bad colour is refused before any file is read
    return Options(
        Operation.COMPRESS,
        codec=codec_for_output(files.output, codec) if files.output is not None else codec or CodecName.JPEG,
        quality=quality,
        mode=mode.value,
        target_size=target_size,
        target_psnr=target_psnr,
        saliency=saliency,
        allow_half_size=allow_half_size,
        tune=tune.value,
        background=background,
        strip=strip,
        max_pixels=files.max_pixels,
        device=files.device,
    )


@file_command(app)
def decompress(
    files: FileArgs,
    output_format: PictureFormatOpt = None,
    quality: PictureQuality = PICTURE_JPEG_QUALITY,
    passes: Passes = 1,
) -> Options:
    """Decode jpegplus files to full-size pictures (PNG unless -o or --format says otherwise)."""
    return Options(Operation.DECOMPRESS, passes=passes, **picture_options(files, output_format, quality))


@file_command(app)
def enhance(
    files: FileArgs,
    strength: Annotated[
        Optional[int], typer.Option(min=1, max=100, help="override the JPEG quality read from the file")
    ] = None,
    output_format: PictureFormatOpt = None,
    quality: PictureQuality = PICTURE_JPEG_QUALITY,
    passes: Passes = 1,
) -> Options:
    """Remove blocking, ringing and colour bleeding from JPEGs, and from pixels that were once a JPEG."""
    return Options(
        Operation.ENHANCE, strength=strength, passes=passes, **picture_options(files, output_format, quality)
    )


def picture_options(files: FileArgs, chosen: PictureFormat | None, quality: int) -> dict[str, Any]:
    """The options of a picture output: its format (checked against -o's name before any work) and more."""
    from jpegplus.batch.naming import picture_format_for_output

    picture = chosen or PictureFormat.PNG
    if files.output is not None:
        picture = picture_format_for_output(files.output, chosen)
    return {
        "picture_format": picture,
        "picture_quality": quality,
        "max_pixels": files.max_pixels,
        "device": files.device,
    }


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
    architecture: Annotated[
        str,
        typer.Option(
            help="artifact model: LeanRestoreNet (shipped), SlimRestoreNet, DeepRestoreNet, RestoreNet or RecCNN "
            "(the paper's)"
        ),
    ] = "LeanRestoreNet",
    down_architecture: Annotated[
        str, typer.Option(help="half-resolution model: LeanRestoreNet (shipped), RestoreNet or RecCNN (the paper's)")
    ] = "LeanRestoreNet",
    train_new_over: Annotated[
        Optional[str],
        typer.Option(help="train only what --architecture adds to this smaller one (a grown network's new pairs)"),
    ] = None,
    patch: Annotated[int, typer.Option(min=32, help="training patch side in pixels")] = 128,
    learning_rate: Annotated[float, typer.Option(help="peak learning rate of each stage")] = 3e-4,
    average_decay: Annotated[
        Optional[float],
        typer.Option(
            help="keep an exponential moving average of the weights with this decay (e.g. 0.999): "
            "validated and exported in place of the raw weights"
        ),
    ] = None,
    artifact_crops: Annotated[int, typer.Option(min=1, help="crops per codec encode of a photo")] = 5,
    artifact_encodes: Annotated[int, typer.Option(min=1, help="random codec encodes per photo")] = 8,
    codec: Annotated[str, typer.Option(help="codec whose decodes the artifact model learns to repair")] = "jpeg",
    seed: Annotated[int, typer.Option(help="seed of the crops, codec qualities and batches")] = 0,
    artifact_qualities: Annotated[
        str, typer.Option(help="codec quality range LOW-HIGH of the artifact pairs")
    ] = "5-95",
    loss: Annotated[
        str, typer.Option(help="charbonnier (L1-like), mse (what PSNR measures) or mse+ms-ssim (both metrics)")
    ] = "charbonnier",
    ms_ssim_share: Annotated[
        float, typer.Option(min=0, help="mse+ms-ssim: weight of 1 − MS-SSIM beside the MSE (more favours MS-SSIM)")
    ] = 0.03,
    legacy: Annotated[
        bool, typer.Option(help="JPEG pairs as people have them (re-compressed, shifted, resized, jpegli): enhance")
    ] = False,
    legacy_kinds: Annotated[
        str,
        typer.Option(
            help="with --legacy, the kinds of file drawn (comma-separated: single, jpegli, mozjpeg, aligned, "
            "shifted, resized); default all"
        ),
    ] = "",
    compress_pairs: Annotated[
        bool, typer.Option(help="every JPEG pair as compress writes full mode: the decoder of compress's own files")
    ] = False,
) -> None:
    """Train (or resume) the JPEG models in the alternating ComCNN/RecCNN scheme."""
    from jpegplus.training import start
    from jpegplus.training.config import TrainConfig, parse_loss, parse_plan, parse_qualities

    try:
        config = TrainConfig(
            data_dir=str(data),
            plan=parse_plan(plan),
            patch=patch,
            learning_rate=learning_rate,
            average_decay=average_decay,
            artifact_crops=artifact_crops,
            artifact_encodes=artifact_encodes,
            artifact_architecture=architecture,
            down_architecture=down_architecture,
            frozen_architecture=train_new_over,
            codec=codec,
            seed=seed,
            artifact_qualities=parse_qualities(artifact_qualities),
            loss=parse_loss(loss),
            ms_ssim_share=ms_ssim_share,
            legacy=legacy,
            legacy_kinds=tuple(comma_separated(legacy_kinds)),
            compress_pairs=compress_pairs,
        )
        start(run, config, threads, from_weights=from_weights)
    except (ValueError, JpegPlusError) as error:
        say("error", str(error))
        raise typer.Exit(code=1) from None


@app.command("export")
def export_weights(
    checkpoint: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a training run's checkpoint.pt")],
    out: Annotated[Path, typer.Option(help="weights folder: files and manifest.json entries")] = Path("weights"),
    kinds: Annotated[
        str, typer.Option(help="comma-separated, of: artifacts, enhance, downsample, artifacts-light, enhance-light")
    ] = ("artifacts,enhance,downsample"),
    highest_quality: Annotated[
        Optional[int], typer.Option(min=1, max=100, help="highest quality where it beats the plain decode")
    ] = None,
    crossover_bpp: Annotated[
        Optional[float], typer.Option(min=0, help="artifact model: below this rate auto also tries half resolution")
    ] = None,
    lowest_quality: Annotated[
        Optional[int], typer.Option(min=1, max=100, help="-light kinds: lowest quality they stand in from")
    ] = None,
    keep_replaced: Annotated[
        bool, typer.Option(help="keep a replaced model that files name, and its stand-in, for the files it made")
    ] = False,
    trellis: Annotated[
        bool, typer.Option(help="trained on trellis-quantized files: compress quantizes the files it restores so")
    ] = False,
    trellis_highest_quality: Annotated[
        Optional[int], typer.Option(min=1, max=100, help="--trellis: only files at this quality or coarser")
    ] = None,
) -> None:
    """Write a checkpoint's models as fp16 safetensors into a weights folder and its manifest."""
    from jpegplus.training.export import export

    with reported():
        exported = export(
            checkpoint,
            out,
            comma_separated(kinds),
            highest_quality,
            crossover_bpp,
            lowest_quality,
            keep_replaced=keep_replaced,
            trellis=trellis,
            trellis_highest_quality=trellis_highest_quality,
        )
        for name, file in exported.items():
            print(f"{name}: {out / file}")


@app.command()
def bench(
    dataset: ReferenceImages,
    out: Annotated[Path, typer.Option("--out", help="folder for results.json, plots and report.html")],
    codecs: Annotated[
        Optional[Codecs],
        typer.Option(parser=parse_codecs, metavar="NAMES", help="comma-separated codecs (default: jpeg)"),
    ] = None,
    modes: Annotated[
        Optional[Modes],
        typer.Option(
            parser=parse_modes,
            metavar="NAMES",
            help="comma-separated jpegplus modes ('' for none) (default: downsample,full)",
        ),
    ] = None,
    enhance: Annotated[bool, typer.Option("--enhance", help="add plain JPEG + enhance")] = False,
    qualities: Annotated[
        Optional[Qualities],
        typer.Option(parser=parse_qualities, metavar="LIST", help="comma-separated quality grid (default: 5,10,…,95)"),
    ] = None,
    limit: FirstImages = None,
    readme: Annotated[Optional[Path], typer.Option(help="also put the headline table into this README")] = None,
    peers: Annotated[
        Optional[Peers],
        typer.Option(
            parser=parse_peers, metavar="NAMES", help="comma-separated peer JPEG encoders: jpegli, progressive, mozjpeg"
        ),
    ] = None,
    plain_view: Annotated[
        bool, typer.Option("--plain-view", help="add jpegplus files read by a plain decoder")
    ] = False,
    tunes: Annotated[
        Optional[Tunes],
        typer.Option(parser=parse_tunes, metavar="NAMES", help="auto's curves: psnr, ms-ssim (default: psnr)"),
    ] = None,
    passes: Annotated[
        int, typer.Option(help="also decode every network curve with 2, 4 or 8 passes (curves named -passesN)")
    ] = 1,
) -> None:
    """Rate-distortion and speed benchmark with BD-rates, plots and an HTML report."""
    from jpegplus.bench.main import run_bench
    from jpegplus.bench.runner import BenchConfig

    with reported():
        config = BenchConfig(
            dataset,
            codecs=DEFAULT_CODECS if codecs is None else codecs,
            modes=DEFAULT_MODES if modes is None else modes,
            enhance=enhance,
            qualities=DEFAULT_QUALITIES if qualities is None else qualities,
            limit=limit,
            peers=peers or (),
            plain_view=plain_view,
            tunes=tunes or DEFAULT_TUNES,
            passes=passes,
        )
        for line in run_bench(config, out, readme):
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
    weights: Annotated[
        str, typer.Option(help="comma-separated weights folders whose networks to time (default: the installed)")
    ] = "",
    limit: FirstImages = None,
) -> None:
    """Per runtime, precision and network: ms per image (decompress, enhance), MP/s and memory, first-call ms,
    GMAC and GMAC/s."""
    from jpegplus.bench.speed import parse_variants, run_speed, with_networks

    with reported():
        timed = with_networks(parse_variants(variants), [Path(folder) for folder in comma_separated(weights)])
        for line in run_speed(dataset, out, timed, limit, megapixels):
            print(line)


@app.command("bench-enhance")
def bench_enhance(
    photos: Annotated[Path, typer.Argument(help="folder of clean PNG photos (LIVE1, Classic5, Kodak)")],
    out: Annotated[Path, typer.Option("--out", help="folder for results.json and summary.md")],
    sets: Annotated[str, typer.Option(help="comma-separated sets, e.g. q10,a-shifted,blind-q10 (default: all)")] = "",
    keep_sets: Annotated[Optional[Path], typer.Option(help="keep the made sets in this folder")] = None,
    passes: Passes = 1,
) -> None:
    """Enhance on JPEGs made from clean photos (single, double-compressed, resized, 4:4:4/4:2:2, jpegli,
    progressive, gray, blind PNG, never-compressed): mean and worst gain over the plain decode, ms."""
    from jpegplus.bench.enhance_bench import bench_photos

    with reported():
        for result in bench_photos(photos, out, comma_separated(sets) or None, keep_sets, passes=check_passes(passes)):
            print(
                f"{result.name}: {result.mean_gain:+.2f} dB (worst {result.worst_gain:+.2f}), {result.median_ms:.0f} ms"
            )


@app.command("bench-saliency")
def bench_saliency(
    dataset: ReferenceImages,
    out: Annotated[Path, typer.Option("--out", help="folder for saliency.json and pictures")],
    qualities: Annotated[
        Optional[Qualities],
        typer.Option(parser=parse_qualities, metavar="LIST", help="uniform JPEG qualities to match (default: 30,60)"),
    ] = None,
    limit: FirstImages = None,
) -> None:
    """Saliency-guided JPEG against uniform JPEG at equal size: salient-25% PSNR and MS-SSIM."""
    import json

    from jpegplus.bench.saliency_bench import DEFAULT_QUALITIES as SALIENCY_QUALITIES
    from jpegplus.bench.saliency_bench import run_saliency_bench

    with reported():
        grid = SALIENCY_QUALITIES if qualities is None else qualities
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
                f"{result.megapixels_per_s:6.2f} MP/s  CPU {result.work_cpu:.0%} (machine {result.cpu_busy:.0%})  "
                f"({result.seconds} s, "
                f"median file {result.file_s_median} s)"
            )


def main() -> None:
    """Console-script entry point: usage errors, too, are one line on stderr (exit code 2)."""
    return_big_blocks()
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
