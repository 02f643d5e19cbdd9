from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jpegplus.errors import InvalidInputError, OutputError
from jpegplus.io import load_image, read_file, read_stream, to_image, to_tensor, write_atomic, write_together


def test_sources_agree(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "p.png"
    Image.fromarray(photo).save(path)
    for source in (photo, Image.fromarray(photo), path, str(path), path.read_bytes()):
        assert np.array_equal(load_image(source).pixels, photo)


def test_exif_and_icc_are_kept(photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", exif=exif.tobytes(), icc_profile=b"icc-bytes")
    loaded = load_image(buffer.getvalue())
    kept = Image.Exif()
    kept.load(loaded.exif)
    assert kept[0x0112] == 6
    assert loaded.icc == b"icc-bytes"


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "uint8"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
    ],
)
def test_bad_arrays(array: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        load_image(array)


def test_tensor_round_trip_clamps_and_rounds(photo: np.ndarray) -> None:
    assert np.array_equal(to_image(to_tensor(photo), gray=False), photo)
    tensor = to_tensor(photo) * 2 - 0.5
    assert to_image(tensor, gray=False).dtype == np.uint8
    gray = to_image(to_tensor(photo[:, :, 0]), gray=True)
    assert np.array_equal(gray, photo[:, :, 0])


def test_write_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomic(target, b"one")
    with pytest.raises(OutputError, match="exists"):
        write_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_atomic(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    with pytest.raises(OutputError, match="input"):
        write_atomic(target, b"three", force=True, inputs=(target,))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_write_atomic_unwritable_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write"):
        write_atomic(tmp_path / "missing" / "out.bin", b"x")


def test_write_together_is_all_or_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write into"):
        write_together([(tmp_path / "a.bin", b"a"), (tmp_path / "missing" / "b.bin", b"b")])
    assert list(tmp_path.iterdir()) == []
    write_together([(tmp_path / "a.bin", b"a"), (tmp_path / "b.bin", b"b")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin"]


def test_write_atomic_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.bin", b"x")
        replaced = tmp_path / "kept.bin"
        replaced.write_bytes(b"old")
        replaced.chmod(0o664)
        write_atomic(replaced, b"new", force=True)
    finally:
        os.umask(old)
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o640
    assert replaced.stat().st_mode & 0o777 == 0o664 and replaced.read_bytes() == b"new"


def test_read_file_limits(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100)
    assert read_file(path, limit=100) == b"x" * 100
    with pytest.raises(InvalidInputError, match="input limit"):
        read_file(path, limit=99)
    with pytest.raises(InvalidInputError, match="folder"):
        read_file(tmp_path)
    with pytest.raises(InvalidInputError, match="input limit"):
        read_stream(io.BytesIO(b"y" * 10), "standard input", limit=9)
