#!/usr/bin/env python3
"""A fuzz campaign against jpegplus, independent of pytest: N API cases and N CLI cases, counted by kind.

    python3 scripts/fuzz.py --api-cases 10000 --cli-cases 500 --seed 7 --out fuzz-report
    python3 scripts/fuzz.py --target /work/main ...   # fuzz another checkout's jpegplus
    python3 scripts/fuzz.py --seed 7 --out fuzz-report --replay-api 123   # one case again, verbosely

API cases run one at a time in a supervised worker process (restarted after a hang, a memory overrun
or a crash); CLI cases run the real ``jpegplus`` command in a child process, each in a fresh folder.
Both use ``--target``'s code (``PYTHONPATH``). Case ``i`` of a seed is the same on every run. The
output folder gets ``report.json`` (counts, causes, reproducers), the seed files, and ``cases/``
with the input of every failing case. One worker at a time: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing.commands import CliCase, build_cli_case, check, execute, heavy_cases  # noqa: E402
from fuzzing.picking import FAILURE_KINDS, RandomPicker  # noqa: E402
from fuzzing.report import Tally  # noqa: E402
from fuzzing.seeds import read_seeds  # noqa: E402
from fuzzing.supervise import GB, ApiWorker, Limits  # noqa: E402

CORPUS = ROOT / "tests" / "fuzz_corpus"
Progress = Optional[Callable[[], object]]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-cases", type=int, default=1000)
    parser.add_argument("--cli-cases", type=int, default=50)
    parser.add_argument("--seed", default="0", help="campaign seed: case i of a seed is always the same case")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json, seeds and failing cases")
    parser.add_argument("--target", type=Path, default=ROOT, help="checkout whose jpegplus is fuzzed")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before a case counts as a hang")
    parser.add_argument("--heavy-timeout", type=float, default=300.0, help="seconds allowed to the heavy CLI cases")
    parser.add_argument("--memory-gb", type=float, default=2.0, help="peak resident memory allowed per case")
    parser.add_argument("--kill-gb", type=float, default=3.0, help="resident memory at which a case is stopped")
    parser.add_argument("--no-heavy", action="store_true", help="skip the heavy multi-megapixel CLI cases")
    parser.add_argument("--replay-api", type=int, metavar="N", help="run API case N of the seed again and show it")
    parser.add_argument("--replay-cli", type=int, metavar="N", help="run CLI case N of the seed again, keep its folder")
    return parser.parse_args()


def describe_target(target: Path) -> str:
    """The checkout's commit (and whether its jpegplus/ has uncommitted changes)."""

    def git(*words: str) -> str:
        return subprocess.run(["git", "-C", str(target), *words], capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "jpegplus")
    return f"{target} @ {git('rev-parse', '--short', 'HEAD')}{' (uncommitted changes in jpegplus/)' if dirty else ''}"


def make_seeds(target: Path, folder: Path, heavy: bool) -> None:
    """Build the seeds with the target's jpegplus, in a child process (this one never imports jpegplus)."""
    if (folder / "seeds.json").exists():
        return
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); from pathlib import Path; "
        "from fuzzing.seeds import HEAVY, build_seeds, write_seeds; "
        f"write_seeds(build_seeds(heavy=HEAVY if {heavy} else (), corpus=Path({str(CORPUS)!r})), Path({str(folder)!r}))"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(target)}, check=True)


def api_campaign(
    args: argparse.Namespace, limits: Limits, tally: Tally, *, only: int | None = None, progress: Progress = None
) -> None:
    """Run the API cases (or case ``only``) in a supervised worker."""
    workdir = args.out / "api-work"
    workdir.mkdir(parents=True, exist_ok=True)
    worker = ApiWorker(
        target=args.target, seeds_dir=args.out / "seeds", seed=args.seed, workdir=workdir, limits=limits, hostile=True
    )
    started = time.monotonic()
    try:
        for index in [only] if only is not None else range(args.api_cases):
            answer = worker.ask({"id": index, "index": index})
            findings = answer["findings"]
            reproducer = answer["reproducer"]
            if any(f["kind"] in FAILURE_KINDS for f in findings) and answer["has_input"]:
                saved = args.out / "cases" / f"api-{index}.bin"
                saved.parent.mkdir(exist_ok=True)
                shutil.copyfile(workdir / "current.bin", saved)
                reproducer = reproducer.replace("{input}", str(saved))
            tally.add(f"api {index}: {answer['case']}", reproducer, findings, answer["seconds"], answer["peak_rss"])
            if only is not None:
                print(json.dumps({**answer, "reproducer": reproducer}, indent=1))
            elif (index + 1) % 250 == 0:
                rate = (index + 1) / (time.monotonic() - started)
                print(
                    f"api {index + 1}/{args.api_cases}  {rate:.1f} cases/s  failures so far {tally.failing}",
                    flush=True,
                )
                if progress:
                    progress()
    finally:
        worker.stop()


def cli_campaign(
    args: argparse.Namespace, limits: Limits, tally: Tally, *, only: int | None = None, progress: Progress = None
) -> None:
    """Run the heavy CLI cases, then random ones (or case ``only``), each in a fresh folder."""
    seeds = read_seeds(args.out / "seeds")
    heavy = [] if args.no_heavy or only is not None else heavy_cases(seeds)
    cases: list[tuple[str, CliCase]] = [(f"heavy-{i}", case) for i, case in enumerate(heavy)]
    numbers = [only] if only is not None else range(max(args.cli_cases - len(heavy), 0))
    cases += [(str(i), build_cli_case(RandomPicker(random.Random(f"{args.seed}:cli:{i}")), seeds)) for i in numbers]
    heavy_limits = Limits(args.heavy_timeout, limits.memory, limits.kill_memory, wall_cap=3 * args.heavy_timeout)
    for count, (name, case) in enumerate(cases, 1):
        folder = args.out / "cli-work" / name
        shutil.rmtree(folder, ignore_errors=True)
        result, before, after = execute(case, folder, args.target, heavy_limits if case.heavy else limits)
        findings = [vars(f) for f in check(case, result, before, after, folder, limits)]
        failing = any(f["kind"] in FAILURE_KINDS for f in findings)
        kept = args.out / "cases" / f"cli-{name}"
        if failing or only is not None:
            shutil.rmtree(kept, ignore_errors=True)
            kept.mkdir(parents=True)
            for file_name, data in case.files.items():
                (kept / file_name).write_bytes(data)
            if case.stdin is not None:  # an input on standard input is kept too: the case is replayable
                (kept / "stdin").write_bytes(case.stdin)
        given = case.describe().replace("  #", " < stdin  #", 1) if case.stdin is not None else case.describe()
        reproducer = f"cd {kept} && {given}" if failing else case.describe()
        tally.add(f"cli {name}: {case.describe()}", reproducer, findings, result.seconds, result.peak_rss)
        shutil.rmtree(folder, ignore_errors=True)
        if only is not None:
            print(case.describe(), f"\nexit {result.code}, {result.seconds:.1f} s, {result.peak_rss / 1e9:.2f} GB")
            print("stderr:", result.stderr[-2000:], "\nfindings:", json.dumps(findings, indent=1))
        elif count % 25 == 0:
            print(f"cli {count}/{len(cases)}  failures so far {tally.failing}", flush=True)
            if progress:
                progress()


def write_report(args: argparse.Namespace, limits: Limits, target: str, api: Tally, cli: Tally) -> dict[str, object]:
    """Save report.json (also while the campaign runs, so a long one can be read half-way)."""
    report = {
        "target": target,
        "seed": args.seed,
        "command": " ".join(sys.argv),
        "limits": vars(limits),
        "seed_refusals": json.loads((args.out / "seeds" / "seeds.json").read_text())["refused"],
        "api": api.as_json(),
        "cli": cli.as_json(),
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped campaign still ends its worker
    args = parse_arguments()
    args.out, args.target = args.out.resolve(), args.target.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    limits = Limits(args.timeout, int(args.memory_gb * GB), int(args.kill_gb * GB))
    target = describe_target(args.target)
    make_seeds(args.target, args.out / "seeds", heavy=not args.no_heavy)
    api, cli = Tally("api"), Tally("cli")
    if args.replay_api is not None or args.replay_cli is not None:
        if args.replay_api is not None:
            api_campaign(args, limits, api, only=args.replay_api)
        if args.replay_cli is not None:
            cli_campaign(args, limits, cli, only=args.replay_cli)
        return
    print(f"fuzzing {target}, seed {args.seed}", flush=True)
    progress = lambda: write_report(args, limits, target, api, cli)  # noqa: E731
    api_campaign(args, limits, api, progress=progress)
    cli_campaign(args, limits, cli, progress=progress)
    report = progress()
    print(f"\n{target}, seed {args.seed}")
    if report["seed_refusals"]:
        print("valid seed images refused by compress:", *report["seed_refusals"], sep="\n  ")
    print(*api.summary(), "", *cli.summary(), sep="\n")
    print(f"\nreport: {args.out / 'report.json'}")


if __name__ == "__main__":
    main()
