from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import jpeg_bytes
from jpegplus.batch import MANIFEST_NAME, Operation, Options, PictureFormat, plan, read_manifest, run
from jpegplus.batch.naming import STDIO, output_name
from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError, OutputError
from jpegplus.io import remove_leftovers

COMPRESS = Options(Operation.COMPRESS)
DECOMPRESS = Options(Operation.DECOMPRESS)
ENHANCE = Options(Operation.ENHANCE)


def save(path: Path, image: np.ndarray, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, fmt)
    return path


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("trip.day1.png", COMPRESS, "trip.day1.jpegplus.jpg"),
        ("photo.png", Options(Operation.COMPRESS, codec=CodecName.WEBP), "photo.jpegplus.webp"),
        ("trip.day1.jpegplus.jpg", DECOMPRESS, "trip.day1.png"),
        ("trip.day2.jpegplus.webp", DECOMPRESS, "trip.day2.png"),
        ("plain.jpg", DECOMPRESS, "plain.png"),
        (".hidden.jpg", DECOMPRESS, ".hidden.png"),
        (".hidden.png", COMPRESS, ".hidden.jpegplus.jpg"),
        ("old.jpg", ENHANCE, "old.enhanced.png"),
        ("old.jpg", Options(Operation.ENHANCE, picture_format=PictureFormat.JPEG), "old.enhanced.jpg"),
        ("noextension", COMPRESS, "noextension.jpegplus.jpg"),
        ("in.jpg", Options(Operation.DECOMPRESS, picture_format=PictureFormat.JPEG), "in.decompressed.jpg"),
        ("IN.JPG", Options(Operation.DECOMPRESS, picture_format=PictureFormat.JPEG), "IN.decompressed.jpg"),
        ("in.jpegplus.jpg", Options(Operation.DECOMPRESS, picture_format=PictureFormat.JPEG), "in.jpg"),
    ],
)
def test_output_names(name: str, options: Options, expected: str) -> None:
    assert output_name(name, options, whole=False) == expected


def test_plan_keeps_the_tree_and_separates_same_stems(tmp_path: Path, photo: np.ndarray) -> None:
    source = tmp_path / "in"
    for name in ("a.png", "a.jpg", "b.png", "sub/a.png", "sub/c.jfif", "sub/d.gif", "x.jpegplus.jpg"):
        save(source / name, photo, "JPEG" if name.endswith((".jfif", ".jpg")) else None)
    (source / "notes.txt").write_text("not an image")
    planned = plan([source], COMPRESS, out_dir=tmp_path / "out")
    targets = {
        str(job.source.relative_to(source)): str(job.target.relative_to(tmp_path / "out")) for job in planned.jobs
    }
    assert targets == {
        "a.png": "a.png.jpegplus.jpg",
        "a.jpg": "a.jpg.jpegplus.jpg",
        "b.png": "b.jpegplus.jpg",
        "sub/a.png": "sub/a.jpegplus.jpg",
        "sub/c.jfif": "sub/c.jpegplus.jpg",
        "sub/d.gif": "sub/d.jpegplus.jpg",
    }
    assert planned.ignored == {"jpegplus outputs": 1}


def test_outputs_that_still_collide_stop_before_any_work(tmp_path: Path, photo: np.ndarray) -> None:
    first, second = save(tmp_path / "one" / "a.png", photo), save(tmp_path / "two" / "a.png", photo)
    with pytest.raises(OutputError, match="would both be written") as raised:
        run([tmp_path / "one", tmp_path / "two"], COMPRESS, out_dir=tmp_path / "out")
    assert str(first) in str(raised.value) and str(second) in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_decompress_names_keep_dots_and_folders(tmp_path: Path, photo: np.ndarray) -> None:
    source = tmp_path / "packed"
    for name in ("trip.day1.jpegplus.jpg", "trip.day2.jpegplus.jpg", "sub/trip.day1.jpegplus.jpg"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(b"")
    planned = plan([source], DECOMPRESS, out_dir=tmp_path / "out")
    assert sorted(str(job.target.relative_to(tmp_path / "out")) for job in planned.jobs) == [
        "sub/trip.day1.png",
        "trip.day1.png",
        "trip.day2.png",
    ]


def test_output_folder_inside_the_input_folder_is_not_searched(tmp_path: Path, photo: np.ndarray) -> None:
    save(tmp_path / "a.png", photo)
    save(tmp_path / "packed" / "old.png", photo)
    assert [job.source.name for job in plan([tmp_path], COMPRESS, out_dir=tmp_path / "packed").jobs] == ["a.png"]


def test_enhance_takes_every_image_of_a_folder_but_its_own_outputs(tmp_path: Path, photo: np.ndarray) -> None:
    (tmp_path / "old.jpg").write_bytes(jpeg_bytes(photo, 30))
    save(tmp_path / "drawing.png", photo)
    save(tmp_path / "old.enhanced.png", photo)
    planned = plan([tmp_path], ENHANCE, out_dir=tmp_path / "out")
    assert [job.source.name for job in planned.jobs] == ["drawing.png", "old.jpg"]
    assert planned.ignored == {"enhanced outputs": 1}


def test_a_folder_of_phone_photos_gives_its_heic_files_too(tmp_path: Path, photo: np.ndarray) -> None:
    (tmp_path / "IMG_0001.HEIC").write_bytes(b"\0\0\0\x18ftypheic")  # taken by name, read (or refused) later
    save(tmp_path / "IMG_0002.png", photo)
    assert [job.source.name for job in plan([tmp_path], COMPRESS).jobs] == ["IMG_0001.HEIC", "IMG_0002.png"]


def test_stdin_takes_one_input_and_no_out_dir(tmp_path: Path, photo: np.ndarray) -> None:
    assert plan([STDIO], COMPRESS).jobs[0].target == STDIO
    with pytest.raises(InvalidOptionError):
        plan([STDIO, save(tmp_path / "a.png", photo)], COMPRESS)
    with pytest.raises(InvalidOptionError):
        plan([STDIO], COMPRESS, out_dir=tmp_path)


def test_run_records_every_input_and_goes_on_after_a_failure(tmp_path: Path, photo: np.ndarray) -> None:
    source = tmp_path / "in"
    save(source / "a.png", photo)
    save(source / "sub" / "b.png", photo[:64, :80])
    (source / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    out = tmp_path / "out"
    summary = run([source], COMPRESS, out_dir=out)
    assert (summary.done, summary.failed) == (2, 1)
    records = {Path(r.input).name: r for r in read_manifest(out / MANIFEST_NAME)}
    assert set(records) == {"a.png", "b.png", "broken.png"}
    done = records["b.png"]
    assert done.status == "done" and done.mode == "full" and done.error is None
    assert done.bytes_out == (out / "sub" / "b.jpegplus.jpg").stat().st_size
    assert done.bpp == pytest.approx(done.bytes_out * 8 / (64 * 80), abs=1e-3)
    failed = records["broken.png"]
    assert failed.status == "failed" and "broken.png" in failed.error and "BytesIO" not in failed.error
    assert not (out / "broken.jpegplus.jpg").exists()
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.jpegplus.jpg", "b.jpegplus.jpg", MANIFEST_NAME]


def test_rerun_skips_finished_outputs_or_refuses_before_work(tmp_path: Path, photo: np.ndarray) -> None:
    save(tmp_path / "in" / "a.png", photo)
    save(tmp_path / "in" / "b.png", photo)
    out = tmp_path / "out"
    run([tmp_path / "in"], COMPRESS, out_dir=out)
    (out / "b.jpegplus.jpg").unlink()
    finished = (out / "a.jpegplus.jpg").stat().st_mtime_ns
    with pytest.raises(OutputError, match="--skip-existing"):
        run([tmp_path / "in"], COMPRESS, out_dir=out)
    assert not (out / "b.jpegplus.jpg").exists()
    summary = run([tmp_path / "in"], COMPRESS, out_dir=out, skip_existing=True)
    assert (summary.done, summary.skipped) == (1, 1)
    assert (out / "a.jpegplus.jpg").stat().st_mtime_ns == finished and (out / "b.jpegplus.jpg").exists()
    statuses = [json.loads(line)["status"] for line in (out / MANIFEST_NAME).read_text().splitlines()]
    assert statuses == ["done", "done", "skipped", "done"]


def test_process_pool_writes_what_one_process_writes(tmp_path: Path, photo: np.ndarray) -> None:
    for index in range(3):
        (tmp_path / "in" / f"{index}.jpg").parent.mkdir(exist_ok=True)
        (tmp_path / "in" / f"{index}.jpg").write_bytes(jpeg_bytes(np.roll(photo, 7 * index, axis=1), 40))
    run([tmp_path / "in"], ENHANCE, out_dir=tmp_path / "one", jobs=1)
    summary = run([tmp_path / "in"], ENHANCE, out_dir=tmp_path / "two", jobs=2)
    assert summary.done == 3
    workers = {record.worker for record in read_manifest(tmp_path / "two" / MANIFEST_NAME)}
    assert all(not worker.endswith(f":{os.getpid()}") for worker in workers)
    for index in range(3):
        one = np.asarray(Image.open(tmp_path / "one" / f"{index}.enhanced.png"), dtype=int)
        two = np.asarray(Image.open(tmp_path / "two" / f"{index}.enhanced.png"), dtype=int)
        assert np.abs(one - two).max() <= 1


def test_leftover_temporary_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".a.jpegplus.jpg.0badc0de.part").write_bytes(b"half")
    (tmp_path / ".other.jpg.12345678.part").write_bytes(b"someone else's")
    assert remove_leftovers([tmp_path / "a.jpegplus.jpg"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.jpg.12345678.part"]
