from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import jpeg_bytes, retag
from jpegplus.cli import app

runner = CliRunner()


@pytest.fixture()
def photo_file(tmp_path: Path, photo: np.ndarray) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    return path


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_compress_decompress_info(tmp_path: Path, photo_file: Path) -> None:
    packed = tmp_path / "photo.jpg"
    result = runner.invoke(app, ["compress", str(photo_file), "-o", str(packed), "-q", "60", "-m", "downsample"])
    assert result.exit_code == 0, result.output
    assert Image.open(packed).size == (64, 48)
    restored = tmp_path / "restored.png"
    assert runner.invoke(app, ["decompress", str(packed), "-o", str(restored)]).exit_code == 0
    assert Image.open(restored).size == (128, 96)
    info = runner.invoke(app, ["info", str(packed)])
    assert "jpegplus mode: downsample" in info.output and "estimated JPEG quality: 60" in info.output


def test_batch_over_folder_with_out_dir(tmp_path: Path, photo: np.ndarray) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b.png"):
        Image.fromarray(photo).save(folder / name)
    out = tmp_path / "out"
    result = runner.invoke(app, ["compress", str(folder), "--out-dir", str(out), "--codec", "webp"])
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.webp")) == ["a.jpegplus.webp", "sub/b.jpegplus.webp"]


def test_enhance_writes_png_and_jpeg(tmp_path: Path, photo: np.ndarray) -> None:
    source = tmp_path / "old.jpg"
    source.write_bytes(jpeg_bytes(photo, 20))
    assert runner.invoke(app, ["enhance", str(source)]).exit_code == 0
    assert Image.open(tmp_path / "old.enhanced.png").size == (128, 96)
    result = runner.invoke(app, ["enhance", str(source), "--format", "jpeg", "-o", str(tmp_path / "e.jpg")])
    assert result.exit_code == 0 and Image.open(tmp_path / "e.jpg").format == "JPEG"


def test_existing_output_needs_force(tmp_path: Path, photo_file: Path) -> None:
    target = tmp_path / "x.jpg"
    target.write_bytes(b"keep me")
    result = runner.invoke(app, ["compress", str(photo_file), "-o", str(target)])
    assert result.exit_code == 1 and "--force" in result.stderr
    assert target.read_bytes() == b"keep me"
    assert runner.invoke(app, ["compress", str(photo_file), "-o", str(target), "--force"]).exit_code == 0
    assert target.read_bytes()[:2] == b"\xff\xd8"


def test_input_is_never_overwritten(tmp_path: Path, photo: np.ndarray) -> None:
    source = tmp_path / "photo.jpg"
    source.write_bytes(jpeg_bytes(photo, 90))
    before = source.read_bytes()
    result = runner.invoke(app, ["compress", str(source), "-o", str(source), "--force"])
    assert result.exit_code == 1 and "input" in result.stderr
    assert source.read_bytes() == before


BAD_FILES = {
    "not_an_image.png": b"hello, I am text",
    "empty.jpg": b"",
    "bomb.png": _png_claiming(30000, 30000),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["compress", "decompress", "enhance"])
def test_bad_inputs_one_line_no_output(tmp_path: Path, name: str, command: str) -> None:
    source = tmp_path / name
    source.write_bytes(BAD_FILES[name])
    target = tmp_path / ("out.jpg" if command == "compress" else "out.png")
    result = runner.invoke(app, [command, str(source), "-o", str(target)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("jpegplus: error:")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_truncated_and_tampered_files(tmp_path: Path, photo_file: Path) -> None:
    packed = tmp_path / "p.jpg"
    runner.invoke(app, ["compress", str(photo_file), "-o", str(packed)])
    data = packed.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "huge.jpg").write_bytes(retag(data, width=100_000, height=100_000))
    for name in ("cut.jpg", "huge.jpg"):
        result = runner.invoke(app, ["decompress", str(tmp_path / name), "-o", str(tmp_path / f"{name}.png")])
        assert result.exit_code == 1 and "Traceback" not in result.stderr, result.stderr
        assert not (tmp_path / f"{name}.png").exists()


def test_unwritable_output_folder(tmp_path: Path, photo_file: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["compress", str(photo_file), "-o", str(blocker / "x.jpg")])
    assert result.exit_code == 1 and result.stderr.startswith("jpegplus: error:")


@pytest.mark.parametrize("args", [["--codec", "bpg"], ["--quality", "0"], ["--quality", "101"], ["--mode", "x"]])
def test_bad_options_exit_non_zero(photo_file: Path, tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["compress", str(photo_file), "-o", str(tmp_path / "o.jpg"), *args])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not (tmp_path / "o.jpg").exists()


def test_missing_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["decompress", str(tmp_path / "nope.jpg")])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_target_size_option(tmp_path: Path, photo_file: Path) -> None:
    out = tmp_path / "small.jpg"
    assert runner.invoke(app, ["compress", str(photo_file), "-o", str(out), "--target-size", "2KB"]).exit_code == 0
    assert out.stat().st_size <= 2000
    bad = runner.invoke(app, ["compress", str(photo_file), "-o", str(tmp_path / "x.jpg"), "--target-size", "lots"])
    assert bad.exit_code == 2 and "cannot read size" in bad.stderr


@pytest.mark.parametrize(
    "argv", [["compress", "x.png", "-q", "200"], ["compress", "x.png", "--codec", "bpg"], ["frobnicate"]]
)
def test_console_script_usage_errors_are_one_line(argv: list[str], monkeypatch, capsys) -> None:
    from jpegplus.cli import main

    monkeypatch.setattr("sys.argv", ["jpegplus", *argv])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("jpegplus: error:")
