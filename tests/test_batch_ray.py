"""The Ray engine against the local one, on a local Ray started here (few, small jobs: Ray starts slowly)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from typer.testing import CliRunner

from conftest import jpeg_bytes
from jpegplus.batch import MANIFEST_NAME, Engine, Operation, Options, Record, read_manifest, run
from jpegplus.cli import app

ray = pytest.importorskip("ray", reason="the Ray engine needs the 'ray' extra (pip install 'jpegplus[ray]')")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def photos() -> dict[str, np.ndarray]:
    return {
        "astronaut.png": data.astronaut()[:96, 100:228],
        "sub/coffee.png": data.coffee()[100:196, 200:328],
        "sub/chelsea.png": data.chelsea()[50:146, 100:228],
        "camera.png": data.camera()[200:296, 200:328],
    }


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.int16)


def test_ray_writes_what_the_local_engine_writes(tmp_path: Path, local_ray: None, monkeypatch) -> None:
    source = tmp_path / "in"
    for name, image in photos().items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(source / name)
        (tmp_path / "jpegs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "jpegs" / name).with_suffix(".jpg").write_bytes(jpeg_bytes(image, 25))
    compress = Options(Operation.COMPRESS, mode="downsample", quality=40)
    run([source], compress, out_dir=tmp_path / "local", jobs=1)
    result = CliRunner().invoke(
        app,
        [
            "compress",
            str(source),
            "--out-dir",
            str(tmp_path / "ray"),
            "-m",
            "downsample",
            "-q",
            "40",
            "--engine",
            "ray",
        ],
    )
    assert result.exit_code == 0, result.stderr
    packed = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.jpg"))
    assert len(packed) == 4
    for name in packed:  # compress: byte-identical
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes()
    for operation, inputs in ((Operation.DECOMPRESS, tmp_path / "local"), (Operation.ENHANCE, tmp_path / "jpegs")):
        local, remote = tmp_path / f"{operation.value}-local", tmp_path / f"{operation.value}-ray"
        run([inputs], Options(operation), out_dir=local, jobs=1)
        assert run([inputs], Options(operation), out_dir=remote, engine=Engine.RAY).done == 4
        for path in local.rglob("*.png"):  # decompress and enhance: within one code value
            assert np.abs(pixels(path) - pixels(remote / path.relative_to(local))).max() <= 1


def test_a_killed_actor_is_replaced_and_the_job_completes(tmp_path: Path, local_ray: None) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for index in range(8):
        image = np.roll(data.astronaut(), 40 * index, axis=1)  # 512x512: seconds of work left after the kill
        (source / f"{index}.jpg").write_bytes(jpeg_bytes(np.ascontiguousarray(image), 30))
    killed: list[int] = []

    def kill_first_worker(record: Record) -> None:
        if not killed:
            killed.append(int(record.worker.rpartition(":")[2]))
            os.kill(killed[0], signal.SIGKILL)

    out = tmp_path / "out"
    summary = run(
        [source], Options(Operation.ENHANCE), out_dir=out, engine=Engine.RAY, workers=1, on_record=kill_first_worker
    )
    assert summary.done == 8 and summary.failed == 0
    workers = {record.worker.rpartition(":")[2] for record in read_manifest(out / MANIFEST_NAME)}
    assert str(killed[0]) in workers and len(workers) >= 2  # a new actor finished the work
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{i}.enhanced.png" for i in range(8)] + [MANIFEST_NAME])
    for index in range(8):
        assert Image.open(out / f"{index}.enhanced.png").size == (512, 512)
