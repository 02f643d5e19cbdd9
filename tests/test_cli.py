from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from typer.testing import CliRunner

from conftest import jpeg_bytes, retag
from fuzzing.seeds import png_claiming
from jpegplus.batch import MANIFEST_NAME, read_manifest
from jpegplus.cli import app
from jpegplus.codecs.pillow_codec import REDUCED_TO_8_BITS as REDUCED

runner = CliRunner()


@pytest.fixture()
def photo_file(tmp_path: Path, photo: np.ndarray) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    return path


def test_compress_decompress_info(tmp_path: Path, photo_file: Path) -> None:
    packed = tmp_path / "photo.jpg"
    result = runner.invoke(app, ["compress", str(photo_file), "-o", str(packed), "-q", "60", "-m", "downsample"])
    assert result.exit_code == 0, result.output
    assert Image.open(packed).size == (64, 48)
    assert "plain viewers show 64x48, jpegplus decompress restores 128x96" in result.stderr
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


def test_transparent_input_to_jpeg_is_refused_with_the_option_that_flattens_it(
    tmp_path: Path, photo: np.ndarray
) -> None:
    alpha = np.zeros(photo.shape[:2], np.uint8)
    alpha[:, : photo.shape[1] // 2] = 255  # the right half fully transparent
    source = tmp_path / "logo.png"
    Image.fromarray(np.dstack([photo, alpha])).save(source)
    refused = runner.invoke(app, ["compress", str(source), "-o", str(tmp_path / "logo.jpg")])
    assert refused.exit_code == 1 and "pass --background COLOR" in refused.stderr
    assert not (tmp_path / "logo.jpg").exists()
    flattened = runner.invoke(app, ["compress", str(source), "-o", str(tmp_path / "logo.jpg"), "--background", "white"])
    assert flattened.exit_code == 0, flattened.stderr
    with Image.open(tmp_path / "logo.jpg") as picture:
        assert picture.mode == "RGB"
        assert np.asarray(picture)[:, -40:].min() >= 245  # the transparent half shows the white background


def test_strip_leaves_out_exif_and_xmp_and_keeps_the_icc_profile(tmp_path: Path, photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = tmp_path / "shot.jpg"
    Image.fromarray(photo).save(source, quality=95, exif=exif.tobytes(), icc_profile=icc, xmp=b"<x:xmpmeta/>")
    for flags, name in (([], "kept.jpg"), (["--strip"], "stripped.jpg")):
        result = runner.invoke(app, ["compress", str(source), "-o", str(tmp_path / name), *flags])
        assert result.exit_code == 0, result.stderr
    with Image.open(tmp_path / "kept.jpg") as kept, Image.open(tmp_path / "stripped.jpg") as stripped:
        assert kept.getexif()[0x010F] == "TestCam" and "xmp" in kept.info
        assert 0x010F not in stripped.getexif() and "xmp" not in stripped.info
        assert stripped.info["icc_profile"] == kept.info["icc_profile"] == icc


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
    "bomb.png": png_claiming(30000, 30000),
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


def test_version_and_short_help() -> None:
    from jpegplus import __version__

    assert runner.invoke(app, ["--version"]).output.strip() == f"jpegplus {__version__}"
    result = runner.invoke(app, ["compress", "-h"])
    assert result.exit_code == 0 and "--out-dir" in result.output


def test_help_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys; from jpegplus.cli import app; print('torch' in sys.modules, 'ray' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["False", "False"]


def test_stdin_to_stdout(photo_file: Path) -> None:
    result = runner.invoke(app, ["compress", "-", "-o", "-", "-c", "webp"], input=photo_file.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes[:4] == b"RIFF" and result.stdout_bytes[8:12] == b"WEBP"
    restored = runner.invoke(app, ["decompress", "-"], input=result.stdout_bytes)
    assert restored.exit_code == 0 and Image.open(io.BytesIO(restored.stdout_bytes)).size == (128, 96)
    assert not Path("-").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compress", "-c", "webp", "-o", "{tmp}/out.jpg"], "--codec webp writes .webp"),
        (["compress", "-o", "{tmp}/out.png"], "cannot tell the codec"),
        (["decompress", "-o", "{tmp}/out.blp"], "cannot write 'out.blp'"),
        (["enhance", "--format", "jpeg", "-o", "{tmp}/out.png"], "cannot write 'out.png'"),
        (["compress", "--save-saliency", "{tmp}/map.jpg", "-o", "{tmp}/o.jpg"], "writes a PNG"),
        (["compress", "--force", "--skip-existing", "-o", "{tmp}/o.jpg"], "not both"),
        (["compress", "--workers", "2", "-o", "{tmp}/o.jpg"], "--engine ray"),
        (["compress", "--target-size", "9KB", "--target-psnr", "30", "-o", "{tmp}/o.jpg"], "not both"),
        (["compress", "--background", "nocolour", "-o", "{tmp}/o.jpg"], "unknown background colour 'nocolour'"),
    ],
)
def test_output_options_are_checked_before_work(
    tmp_path: Path, photo_file: Path, args: list[str], message: str
) -> None:
    before = sorted(tmp_path.iterdir())
    argv = [args[0], str(photo_file), *(a.replace("{tmp}", str(tmp_path)) for a in args[1:])]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == before


def test_codec_follows_the_output_name(tmp_path: Path, photo_file: Path) -> None:
    assert runner.invoke(app, ["compress", str(photo_file), "-o", str(tmp_path / "p.avif")]).exit_code == 0
    assert Image.open(tmp_path / "p.avif").format == "AVIF"


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo"])
def test_only_regular_files_are_read(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)
    for argv in (["info", special], ["compress", special, "-o", str(tmp_path / "o.jpg")]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 1 and "not a regular file" in result.stderr
    assert not (tmp_path / "o.jpg").exists()


def test_failed_saliency_map_leaves_no_compressed_file(tmp_path: Path, photo_file: Path) -> None:
    target = tmp_path / "out.jpg"
    result = runner.invoke(
        app, ["compress", str(photo_file), "-o", str(target), "--save-saliency", "/nonexistent/m.png"]
    )
    assert result.exit_code == 1 and "/nonexistent" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]
    ok = runner.invoke(
        app, ["compress", str(photo_file), "-o", str(target), "--save-saliency", str(tmp_path / "m.png")]
    )
    assert ok.exit_code == 0 and Image.open(tmp_path / "m.png").size == (128, 96) and target.exists()


def test_hidden_files_get_proper_names(tmp_path: Path, photo: np.ndarray) -> None:
    Image.fromarray(photo).save(tmp_path / ".hidden.png")
    assert runner.invoke(app, ["compress", str(tmp_path / ".hidden.png")]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.jpegplus.jpg", ".hidden.png"]
    out = tmp_path / "out"
    assert (
        runner.invoke(app, ["decompress", str(tmp_path / ".hidden.jpegplus.jpg"), "--out-dir", str(out)]).exit_code == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [".hidden.png", "jpegplus-manifest.jsonl"]


def test_outputs_get_umask_permissions(tmp_path: Path, photo_file: Path) -> None:
    old = os.umask(0o022)
    try:
        assert runner.invoke(app, ["compress", str(photo_file), "-o", str(tmp_path / "o.jpg")]).exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "o.jpg").stat().st_mode & 0o777 == 0o644


def test_library_warnings_only_with_verbose(tmp_path: Path, photo_file: Path, monkeypatch) -> None:
    import warnings

    from jpegplus import pipeline

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # the 128×96 photo is over it, under twice it
    original = pipeline.compress

    def warning_compress(*args: object, **kwargs: object) -> bytes:
        warnings.warn("something odd underneath", UserWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "compress", warning_compress)
    quiet = runner.invoke(app, ["compress", str(photo_file), "-o", str(tmp_path / "a.jpg")])
    assert quiet.exit_code == 0 and quiet.stderr == ""  # neither Pillow's DecompressionBombWarning nor ours
    loud = runner.invoke(app, ["compress", str(photo_file), "-o", str(tmp_path / "b.jpg"), "-v"])
    assert loud.exit_code == 0
    assert loud.stderr.strip() == f"jpegplus: info: {photo_file}: UserWarning: something odd underneath"


def test_folder_batch_summary_and_errors(tmp_path: Path, photo: np.ndarray) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(photo, 30))
    Image.fromarray(photo).save(folder / "b.gif")
    (folder / "c.jpg").write_bytes(b"not really a JPEG")
    result = runner.invoke(app, ["enhance", str(folder), "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"jpegplus: error: {folder / 'c.jpg'}: not an image")
    assert lines[1].startswith("jpegplus: summary: 3 files: 2 done, 1 failed;")
    modes = {Path(r.input).name: r.mode for r in read_manifest(tmp_path / "out" / MANIFEST_NAME)}
    assert modes == {"a.jpg": "enhance", "b.gif": "blind", "c.jpg": None}
    assert (tmp_path / "out" / "a.enhanced.png").exists() and (tmp_path / "out" / "b.enhanced.png").exists()
    quiet = runner.invoke(app, ["-q", "enhance", str(folder), "--out-dir", str(tmp_path / "q")])
    assert quiet.stderr.strip().splitlines() == lines[:1]


def test_a_missing_output_folder_fails_before_work_in_one_line(tmp_path: Path, photo_file: Path) -> None:
    """Found by fuzzing: -o into a missing folder failed after the work, under the work's warnings."""
    for option in (["-m", "downsample", "-o", "new/dir/out.jpg"], ["-o", "o.jpg", "--save-saliency", "no/map.png"]):
        result = runner.invoke(
            app,
            ["compress", str(photo_file), *(str(tmp_path / w) if w.endswith((".jpg", ".png")) else w for w in option)],
        )
        assert result.exit_code == 1 and "is not an existing folder" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [photo_file.name]


def test_a_warning_is_printed_once_naming_the_file(tmp_path: Path, photo: np.ndarray) -> None:
    """Found by fuzzing: the console handler and the job's note both printed every warning."""
    deep = tmp_path / "deep.png"
    Image.fromarray(photo[:, :, 0].astype(np.uint16) * 257).save(deep)
    result = runner.invoke(app, ["compress", str(deep), "-o", str(tmp_path / "out.jpg")])
    assert result.exit_code == 0
    assert result.stderr.strip().splitlines() == [f"jpegplus: warning: {deep}: {REDUCED}"]
