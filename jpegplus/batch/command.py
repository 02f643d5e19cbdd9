"""The part the file commands (compress, decompress, enhance) share: their common options, and
running each as a batch with one progress bar, one line per failure and a summary.

A command is written as a function from its own options to :class:`Options`;
:func:`file_command` registers it with the shared options around them (defined once, here).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Optional, get_type_hints

import typer

from jpegplus.batch.console import NORMAL, QUIET, configure_logging, say
from jpegplus.batch.naming import STDIO
from jpegplus.batch.options import Options
from jpegplus.batch.runner import Engine
from jpegplus.batch.worker import describe_error
from jpegplus.errors import InvalidOptionError, JpegPlusError
from jpegplus.options import DEFAULT_MAX_PIXELS

Inputs = Annotated[list[Path], typer.Argument(help="image files or folders (searched recursively); '-' reads stdin")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="output file (one input); '-' is stdout")]
OutDir = Annotated[
    Optional[Path], typer.Option("--out-dir", help="folder for the outputs (keeps the tree) and the manifest")
]
Force = Annotated[bool, typer.Option("--force", help="replace existing outputs (never an input)")]
SkipExisting = Annotated[bool, typer.Option("--skip-existing", help="leave inputs whose output exists (re-runs)")]
EngineOpt = Annotated[Engine, typer.Option("--engine", help="local processes, or a Ray cluster")]
Jobs = Annotated[
    Optional[int], typer.Option("--jobs", "-j", min=1, help="local worker processes (default: one per core)")
]
Address = Annotated[Optional[str], typer.Option("--address", help="Ray cluster: auto or ray://HOST:10001")]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="Ray actors (default: one per cluster CPU)")]
MaxPixels = Annotated[
    int, typer.Option(min=1, help="refuse larger images (stored or claimed by the file), before decoding")
]
Device = Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, … (default: CUDA if torch sees one)")]
Quiet = Annotated[bool, typer.Option("--quiet", help="errors only: no progress, warnings or summary")]
Verbose = Annotated[int, typer.Option("--verbose", "-v", count=True, help="more messages (-vv: debug)")]


@dataclass(frozen=True)
class FileArgs:
    """The options every file command takes (the command's own come between output/out_dir and the rest)."""

    inputs: Inputs
    output: Output = None
    out_dir: OutDir = None
    force: Force = False
    skip_existing: SkipExisting = False
    engine: EngineOpt = Engine.LOCAL
    jobs: Jobs = None
    address: Address = None
    workers: Workers = None
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS
    device: Device = None
    quiet: Quiet = False
    verbose: Verbose = 0


LEADING = 3  # inputs, output, out_dir: before the command's own options in --help


@contextmanager
def reported(source: Path | None = None) -> Iterator[None]:
    """Turn jpegplus errors into one stderr line (naming ``source``): exit code 2 for bad options, 1 otherwise."""
    try:
        yield
    except JpegPlusError as error:
        say("error", str(error) if source is None else describe_error(error, source))
        raise typer.Exit(code=2 if isinstance(error, InvalidOptionError) else 1) from None


def verbosity(ctx: typer.Context, quiet: bool, verbose: int) -> int:
    """The command's ``--quiet``/``-v`` over the ones given before the command; sets up logging."""
    before = NORMAL if ctx.obj is None else ctx.obj
    level = QUIET if quiet else verbose or before
    configure_logging(level)
    return level


def file_command(app: typer.Typer) -> Callable[[Callable[..., Options]], Callable[..., None]]:
    """Register ``build(files, **own_options) -> Options`` as the command of its name, with :class:`FileArgs`."""

    def register(build: Callable[..., Options]) -> Callable[..., None]:
        own = list(inspect.signature(build, eval_str=True).parameters.values())[1:]
        types = get_type_hints(FileArgs, include_extras=True)
        shared = [
            inspect.Parameter(
                f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.default, annotation=types[f.name]
            )
            for f in fields(FileArgs)
        ]
        context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        shared[0] = shared[0].replace(default=inspect.Parameter.empty)  # inputs: required

        def command(ctx: typer.Context, **given: Any) -> None:
            files = FileArgs(**{f.name: given.pop(f.name) for f in fields(FileArgs)})
            level = verbosity(ctx, files.quiet, files.verbose)
            with reported():
                run_files(files, build(files, **given), level, saliency_map=given.get("save_saliency"))

        parameters = [context, *shared[:LEADING], *own, *shared[LEADING:]]
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        command.__doc__ = build.__doc__
        return app.command(build.__name__)(command)

    return register


def run_files(files: FileArgs, options: Options, level: int, *, saliency_map: Path | None = None) -> None:
    """Run a command's batch; exit 1 if any file failed."""
    from jpegplus.batch import run
    from jpegplus.batch.console import Display

    if files.engine is Engine.LOCAL and (files.address or files.workers):
        msg = "--address and --workers are options of --engine ray"
        raise InvalidOptionError(msg)
    if files.engine is Engine.RAY and files.jobs:
        msg = "--jobs sets local processes; with --engine ray use --workers"
        raise InvalidOptionError(msg)
    to_stdout = files.output == STDIO or (files.inputs == [STDIO] and files.output is None)
    if to_stdout and sys.stdout.isatty():
        msg = "refusing to write image data to a terminal; redirect standard output or give -o FILE"
        raise InvalidOptionError(msg)
    display = Display(enabled=level > QUIET)
    with display.shown(tiles=files.engine is Engine.LOCAL and files.jobs in (None, 1)):
        summary = run(
            files.inputs,
            options,
            output=files.output,
            out_dir=files.out_dir,
            saliency_map=saliency_map,
            force=files.force,
            skip_existing=files.skip_existing,
            engine=files.engine,
            jobs=files.jobs,
            address=files.address,
            workers=files.workers,
            on_start=display.start,
            on_record=display.finished,
        )
    if level > QUIET and summary.done + summary.failed + summary.skipped > 1:
        say("summary", summary.line())
    if summary.failed:
        raise typer.Exit(code=1)
