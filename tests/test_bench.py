from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

import jpegplus
from jpegplus.bench.bdrate import bd_rate, quality_at_rate
from jpegplus.bench.main import run_bench
from jpegplus.bench.options import parse_codecs, parse_modes, parse_qualities, parse_tunes
from jpegplus.bench.peers import Peer, encode_peer, parse_peers
from jpegplus.bench.runner import BenchConfig
from jpegplus.bench.search import plain_jpeg_at_size
from jpegplus.codecs import CodecName
from jpegplus.errors import InvalidOptionError
from jpegplus.metrics import ms_ssim, psnr, ssim, y_psnr
from jpegplus.modes import Mode, Tune


def test_bd_rate_of_a_shifted_curve() -> None:
    rates, quality = [0.2, 0.4, 0.8, 1.6], [28.0, 31.0, 34.0, 37.0]
    assert bd_rate(rates, quality, rates, quality) == pytest.approx(0.0, abs=1e-9)
    assert bd_rate(rates, quality, [r * 0.7 for r in rates], quality) == pytest.approx(-30.0)
    assert quality_at_rate(rates, quality, 0.4) == pytest.approx(31.0)


def test_bd_rate_and_quality_at_rate_of_empty_curves_are_nan() -> None:
    # a benchmark whose points all lie outside the BD-rate's bpp range hands over empty curves
    assert np.isnan(bd_rate([], [], [1.0, 2.0], [30.0, 33.0]))
    assert np.isnan(quality_at_rate([], [], 1.0))


def test_metrics_agree_with_references() -> None:
    image = data.astronaut()[:200, :200]
    noisy = np.clip(image.astype(int) + np.random.default_rng(0).integers(-8, 9, image.shape), 0, 255).astype(np.uint8)
    mse = np.mean((image.astype(float) - noisy) ** 2)
    assert psnr(image, noisy) == pytest.approx(10 * np.log10(255**2 / mse))
    assert y_psnr(image[:, :, 0], noisy[:, :, 0]) == psnr(image[:, :, 0], noisy[:, :, 0])
    assert 0.5 < ssim(image, noisy) < 1.0 and 0.9 < ms_ssim(image, noisy) < 1.0
    assert ms_ssim(image, image) == pytest.approx(1.0, abs=1e-5)


def test_plain_jpeg_at_size_fits() -> None:
    image = data.astronaut()[:128, :128]
    _, size = plain_jpeg_at_size(image, 3000)
    assert size <= 3000


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("set")
    Image.fromarray(data.astronaut()[100:276, 150:326]).save(folder / "a.png")
    Image.fromarray(data.chelsea()[60:236, 100:276]).save(folder / "b.png")
    out = tmp_path_factory.mktemp("bench")
    run_bench(BenchConfig(folder, (CodecName.JPEG, CodecName.WEBP), (Mode.FULL,), True, (20, 50, 80)), out)
    return out


def test_bench_json_schema(bench_run: Path) -> None:
    results = json.loads((bench_run / "results.json").read_text())
    assert set(results) >= {"config", "machine", "bd_rate_method", "curves", "bd_rate", "speed", "records"}
    assert set(results["curves"]) == {
        "plain-jpeg",
        "plain-webp",
        "jpeg+enhance",
        "jpegplus-jpeg-full",
        "jpegplus-webp-full",
    }
    assert len(results["records"]) == 2 * 3 * 5
    record = results["records"][0]
    assert set(record) == {"image", "curve", "codec", "quality", "bytes", "bpp", "psnr", "y_psnr", "ssim", "ms_ssim",
                           "encode_ms", "decode_ms"}  # fmt: skip
    assert record["bpp"] == pytest.approx(record["bytes"] * 8 / 176 / 176)
    assert results["bd_rate"]["plain-jpeg"]["vs_jpeg_psnr"] == pytest.approx(0.0, abs=1e-9)
    assert results["bd_rate"]["plain-webp"]["vs_own_codec_psnr"] == pytest.approx(0.0, abs=1e-9)
    assert {"torch", "threads", "bf16", "peak_rss_mb"} <= set(results["machine"])


def test_report_references_existing_files(bench_run: Path) -> None:
    page = (bench_run / "report.html").read_text()
    sources = re.findall(r'src="([^"]+)"', page)
    assert "rd_psnr.png" in sources and "example_crop_original.png" in sources and len(sources) >= 7
    assert all((bench_run / source).is_file() for source in sources)
    assert "<table>" in page and "jpegplus-jpeg-full" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium package is not installed")
def test_report_renders_in_chromium(bench_run: Path, tmp_path: Path) -> None:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    url = (bench_run / "report.html").as_uri()
    dom = subprocess.run(["chromium", *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert "<table>" in dom and "BD-rate" in dom and dom.count("<img") >= 7
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,2400", url], timeout=120, check=False
    )
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.std() > 10  # tables and pictures drawn, not a blank page


def test_crossover_rate_between_two_curves() -> None:
    from jpegplus.bench.bdrate import crossover_rate

    low = ([0.1, 0.2, 0.4, 0.8], [25.0, 28.0, 30.0, 31.0])
    high = ([0.1, 0.2, 0.4, 0.8], [22.0, 26.0, 30.5, 34.0])
    assert 0.2 < crossover_rate(low, high) < 0.4
    assert np.isnan(crossover_rate(high, high))  # already equal at the lowest shared rate: the crossing is lower
    assert np.isnan(crossover_rate(high, low))  # never crosses


def test_parse_peers_reads_names_in_order_once() -> None:
    assert parse_peers("progressive, JPEGLI,progressive") == (Peer.PROGRESSIVE, Peer.JPEGLI)
    assert parse_peers("") == ()
    assert parse_peers("mozjpeg") == (Peer.MOZJPEG,)
    with pytest.raises(InvalidOptionError, match="'guetzli'; choose from jpegli, progressive, mozjpeg"):
        parse_peers("jpegli,guetzli")


def test_bench_command_passes_parsed_peers_and_refuses_unknown_ones(monkeypatch, tmp_path: Path, capsys) -> None:
    from jpegplus import cli
    from jpegplus.bench import main as bench_main

    seen = {}
    monkeypatch.setattr(
        bench_main, "run_bench", lambda config, *_: seen.update(peers=config.peers, plain_view=config.plain_view) or []
    )
    argv = ["jpegplus", "bench", str(tmp_path), "--out", str(tmp_path / "o")]
    monkeypatch.setattr("sys.argv", [*argv, "--peers", "jpegli,progressive", "--plain-view"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 0
    assert seen == {"peers": (Peer.JPEGLI, Peer.PROGRESSIVE), "plain_view": True}
    monkeypatch.setattr("sys.argv", [*argv, "--peers", "guetzli"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and len(err.strip().splitlines()) == 1 and "choose from jpegli" in err


def test_peers_need_the_jpeg_codec(tmp_path: Path) -> None:
    Image.fromarray(data.astronaut()[:64, :64]).save(tmp_path / "a.png")
    with pytest.raises(InvalidOptionError, match="add jpeg to --codecs"):
        BenchConfig(tmp_path, (CodecName.WEBP,), (), False, (50,), peers=(Peer.JPEGLI,))


def test_auto_gets_a_curve_per_tune(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    Image.fromarray(data.astronaut()[::2, ::2]).save(folder / "a.png")
    config = BenchConfig(folder, (CodecName.JPEG,), (Mode.AUTO, Mode.FULL), False, (30,),
                         tunes=parse_tunes("psnr, ms-ssim"))  # fmt: skip
    run_bench(config, tmp_path / "out")
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    curves = {"plain-jpeg", "jpegplus-jpeg-auto", "jpegplus-jpeg-auto-ms-ssim", "jpegplus-jpeg-full"}
    assert set(results["curves"]) == curves
    assert results["config"]["tunes"] == ["psnr", "ms-ssim"]
    by_psnr, by_ms_ssim = (_points(results, f"jpegplus-jpeg-{c}")[("a.png", 30)] for c in ("auto", "auto-ms-ssim"))
    assert by_ms_ssim["ms_ssim"] > by_psnr["ms_ssim"] and by_ms_ssim["bytes"] <= by_psnr["bytes"]
    assert by_psnr["psnr"] > by_ms_ssim["psnr"]
    assert parse_tunes("ms-ssim") == (Tune.MS_SSIM,)
    with pytest.raises(InvalidOptionError, match="--tunes needs at least one"):
        parse_tunes(" , ")


def test_passes_add_a_curve_for_every_network_decode(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    Image.fromarray(data.astronaut()[100:276, 150:326]).save(folder / "a.png")
    run_bench(BenchConfig(folder, (CodecName.JPEG,), (Mode.FULL,), True, (20,), passes=2), tmp_path / "out")
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(results["curves"]) == {
        "plain-jpeg", "jpeg+enhance", "jpeg+enhance-passes2", "jpegplus-jpeg-full", "jpegplus-jpeg-full-passes2"
    }  # fmt: skip
    for curve in ("jpeg+enhance", "jpegplus-jpeg-full"):  # the same files, decoded better
        once, twice = (_points(results, name)[("a.png", 20)] for name in (curve, f"{curve}-passes2"))
        assert twice["bytes"] == once["bytes"] and twice["psnr"] > once["psnr"]
    with pytest.raises(InvalidOptionError, match="passes must be one of"):
        BenchConfig(folder, passes=3)


@pytest.fixture(scope="module")
def peers_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("peerset")
    Image.fromarray(data.astronaut()[100:276, 150:326]).save(folder / "a.png")
    Image.fromarray(data.camera()[100:276, 150:326]).save(folder / "g.png")  # gray: jpegli stores it as RGB
    out = tmp_path_factory.mktemp("peers")
    config = BenchConfig(folder, (CodecName.JPEG,), (Mode.FULL,), True, (20, 50, 80), None,
                         (Peer.JPEGLI, Peer.PROGRESSIVE, Peer.MOZJPEG), plain_view=True)  # fmt: skip
    run_bench(config, out)
    return folder, out


def _points(results: dict, curve: str) -> dict[tuple[str, int], dict]:
    return {(r["image"], r["quality"]): r for r in results["records"] if r["curve"] == curve}


def test_peer_curves_are_the_peers_files(peers_run: tuple[Path, Path]) -> None:
    folder, out = peers_run
    results = json.loads((out / "results.json").read_text())
    assert set(results["curves"]) == {
        "plain-jpeg", "jpeg+enhance", "jpegli", "jpegli+enhance", "progressive-jpeg", "progressive-jpeg+enhance",
        "mozjpeg", "mozjpeg+enhance", "jpegplus-jpeg-full", "jpegplus-jpeg-full-plain-view",
    }  # fmt: skip
    assert results["config"]["peers"] == ["jpegli", "progressive", "mozjpeg"]
    assert results["config"]["plain_view"] is True
    reference = np.asarray(Image.open(folder / "a.png"))
    jpegli = _points(results, "jpegli")[("a.png", 50)]
    assert jpegli["bytes"] == len(encode_peer(Peer.JPEGLI, reference, 50))
    decoded = np.asarray(Image.open(io.BytesIO(encode_peer(Peer.JPEGLI, reference, 50))))
    assert jpegli["psnr"] == pytest.approx(psnr(reference, decoded))
    gray = _points(results, "jpegli")[("g.png", 50)]
    assert 25 < gray["psnr"] < 60  # compared as gray with the gray original
    # progressive re-codes the same coefficients: same pixels (so the same enhance), other bytes
    plain, progressive = _points(results, "plain-jpeg"), _points(results, "progressive-jpeg")
    for key in plain:
        assert progressive[key]["psnr"] == plain[key]["psnr"] and progressive[key]["bytes"] != plain[key]["bytes"]
    assert _points(results, "progressive-jpeg+enhance")[("a.png", 20)]["psnr"] == pytest.approx(
        _points(results, "jpeg+enhance")[("a.png", 20)]["psnr"]
    )
    # mozjpeg: its own tables and trellis, progressive, smaller than libjpeg's file at the same quality
    mozjpeg = encode_peer(Peer.MOZJPEG, reference, 50)
    assert _points(results, "mozjpeg")[("a.png", 50)]["bytes"] == len(mozjpeg) < plain[("a.png", 50)]["bytes"]
    with Image.open(io.BytesIO(mozjpeg)) as picture:
        standard = Image.open(io.BytesIO(encode_peer(Peer.PROGRESSIVE, reference, 50))).quantization
        assert picture.info.get("progressive") and picture.quantization != standard


def test_plain_view_is_the_same_file_without_the_network(peers_run: tuple[Path, Path]) -> None:
    folder, out = peers_run
    results = json.loads((out / "results.json").read_text())
    restored, plain = _points(results, "jpegplus-jpeg-full"), _points(results, "jpegplus-jpeg-full-plain-view")
    assert restored.keys() == plain.keys()
    for key in restored:
        assert plain[key]["bytes"] == restored[key]["bytes"] and plain[key]["psnr"] < restored[key]["psnr"]
    reference = np.asarray(Image.open(folder / "a.png"))
    packed = jpegplus.compress(reference, codec="jpeg", quality=50, mode="full")
    assert plain[("a.png", 50)]["psnr"] == pytest.approx(psnr(reference, np.asarray(Image.open(io.BytesIO(packed)))))
    gaps = results["plain_view"]["jpegplus-jpeg-full-plain-view"]
    assert set(gaps) == {f"{m}_at_{r}_bpp" for m in ("psnr", "ms_ssim") for r in (0.25, 0.5, 1.0)}
    summary = (out / "summary.md").read_text()
    assert "What a plain viewer sees" in summary and "| jpegplus-jpeg-full-plain-view |" in summary
    assert "<h2>Plain view</h2>" in (out / "report.html").read_text()


def test_every_curve_is_rated_against_libjpeg_jpegli_and_mozjpeg(peers_run: tuple[Path, Path]) -> None:
    _, out = peers_run
    table = json.loads((out / "results.json").read_text())["bd_rate"]
    columns = [f"vs_{anchor}_{metric}" for anchor in ("jpeg", "jpegli", "mozjpeg") for metric in ("psnr", "ms_ssim")]
    assert all(list(row) == columns for row in table.values())  # no own-codec column repeating vs_jpeg
    assert table["jpegli"]["vs_jpegli_psnr"] == pytest.approx(0.0, abs=1e-9)
    assert table["plain-jpeg"]["vs_jpeg_ms_ssim"] == pytest.approx(0.0, abs=1e-9)
    assert table["jpeg+enhance"]["vs_jpeg_psnr"] < -5  # the network takes bits off every curve it restores
    assert table["jpegli+enhance"]["vs_jpegli_psnr"] < -5
    assert table["mozjpeg"]["vs_mozjpeg_ms_ssim"] == pytest.approx(0.0, abs=1e-9)
    assert table["mozjpeg+enhance"]["vs_mozjpeg_psnr"] < -5
    header = "| curve | vs_jpeg_psnr | vs_jpeg_ms_ssim | vs_jpegli_psnr | vs_jpegli_ms_ssim | vs_mozjpeg_psnr |"
    assert header in (out / "summary.md").read_text()


def test_bench_options_parse_into_typed_lists() -> None:
    assert parse_codecs("jpeg, WebP") == (CodecName.JPEG, CodecName.WEBP)
    assert parse_modes("") == () and parse_modes("full,auto") == (Mode.FULL, Mode.AUTO)
    assert parse_qualities("50,20") == (20, 50)
    with pytest.raises(InvalidOptionError, match="qualities must be integers, got '5,x'"):
        parse_qualities("5,x")


def test_bench_saliency_reports_errors_in_one_line(monkeypatch, tmp_path: Path, capsys) -> None:
    from jpegplus import cli

    monkeypatch.setattr("sys.argv", ["jpegplus", "bench-saliency", str(tmp_path / "none"), "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    err = capsys.readouterr().err
    assert stopped.value.code == 1 and len(err.strip().splitlines()) == 1 and "is not a folder of images" in err


def test_mozjpeg_sets_hold_cjpeg_files() -> None:
    from jpegplus.bench.enhance_sets import set_makers
    from jpegplus.codecs.jpeg.quantization import is_standard

    photo = data.astronaut()[:64, :64]
    for name, quality in (("e-mozjpeg", 20), ("e-mozjpeg-q10", 10)):
        made, suffix, reference = set_makers()[name](photo)
        assert made == encode_peer(Peer.MOZJPEG, photo, quality) and suffix == ".jpg" and reference is photo
        with Image.open(io.BytesIO(made)) as picture:
            assert picture.info.get("progressive") and not is_standard(picture.quantization[0])


def test_bench_enhance_makes_the_sets_and_reports_gains(monkeypatch, tmp_path: Path, capsys) -> None:
    from jpegplus import cli

    photos = tmp_path / "photos"
    photos.mkdir()
    for name, image in [("astronaut", data.astronaut()), ("coffee", data.coffee())]:
        Image.fromarray(image[:96, :128]).save(photos / f"{name}.png")
    keep, out = tmp_path / "sets", tmp_path / "results"
    argv = ["jpegplus", "bench-enhance", str(photos), "--out", str(out), "--sets", "q10,a-shifted,clean"]
    monkeypatch.setattr("sys.argv", [*argv, "--keep-sets", str(keep)])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 0
    assert sorted(p.name for p in (keep / "q10").iterdir()) == [
        "astronaut.jpg", "astronaut.ref.png", "coffee.jpg", "coffee.ref.png"
    ]  # fmt: skip
    results = {s["name"]: s for s in json.loads((out / "results.json").read_text())["sets"]}
    assert list(results) == ["q10", "a-shifted", "clean"] and all(s["images"] == 2 for s in results.values())
    assert results["q10"]["mean_gain"] > 0.5 and results["clean"]["mean_gain"] == 0.0  # clean: returned unchanged
    plains = [
        psnr(np.asarray(Image.open(keep / "q10" / f"{n}.ref.png")), np.asarray(Image.open(keep / "q10" / f"{n}.jpg")))
        for n in ("astronaut", "coffee")
    ]
    assert results["q10"]["plain_psnr"] == pytest.approx(np.mean(plains))
    assert "| q10 | 2 |" in (out / "summary.md").read_text() and "q10: +" in capsys.readouterr().out
    simd = json.loads((out / "results.json").read_text())["machine"]["simd"]  # beside the timings
    assert "avx2" in simd and f"SIMD {' '.join(simd)}." in (out / "summary.md").read_text()
    monkeypatch.setattr("sys.argv", [*argv[:-2], "--sets", "q10", "--passes", "2", "--keep-sets", str(keep)])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 0
    averaged = json.loads((out / "results.json").read_text())
    assert averaged["passes"] == 2 and averaged["sets"][0]["mean_gain"] > results["q10"]["mean_gain"]
    assert "averaged over 2 flips and turns" in (out / "summary.md").read_text()
    monkeypatch.setattr("sys.argv", [*argv[:-2], "--sets", "q7"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2 and "unknown sets q7" in capsys.readouterr().err
