from __future__ import annotations

import io
import logging
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

import jpegplus
from conftest import jpeg_bytes, psnr, retag
from jpegplus import payload
from jpegplus.codecs import CodecName, get_codec
from jpegplus.codecs.jpeg.codec import JpegCodec
from jpegplus.codecs.jpeg.consistency import JpegCells, project
from jpegplus.codecs.jpeg.quantization import restoration_tables, standard_tables
from jpegplus.encoder import learned_trellis
from jpegplus.errors import InvalidInputError, InvalidOptionError, MetadataError
from jpegplus.io import to_image, to_tensor
from jpegplus.metrics import ms_ssim
from jpegplus.modes import Mode
from jpegplus.weights import select, select_enhance_artifacts, stand_in

CODECS = [c.value for c in CodecName]
MODES = ["downsample", "full"]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("mode", MODES)
def test_round_trip_every_codec_and_mode(codec: str, mode: str, photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, codec=codec, quality=50, mode=mode)
    out = jpegplus.decompress(data)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert psnr(out, photo) > 24
    metadata = payload.extract(data)
    assert metadata is not None
    assert (metadata.width, metadata.height, metadata.mode, metadata.codec) == (128, 96, mode, codec)
    expected = "jpeg-downsample" if mode == "downsample" else f"{codec}-artifacts"  # every codec has its own
    assert metadata.model.startswith(f"{expected}@")


@pytest.mark.parametrize("codec", CODECS)
def test_plain_viewers_show_the_compact_image(codec: str, photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, codec=codec, quality=60, mode="downsample")
    picture = Image.open(io.BytesIO(data))
    assert picture.size == (64, 48) and picture.format == get_codec(codec).pillow_format
    shown = np.asarray(picture.convert("RGB"))
    area = photo.reshape(48, 2, 64, 2, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    assert psnr(shown, area) > 25  # the compact image looks like the photo
    if codec != "avif":  # OpenCV's wheels carry no AVIF decoder
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape == (48, 64, 3)


def test_full_mode_beats_plain_jpeg(photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, codec="jpeg", quality=20, mode="full")
    plain = get_codec("jpeg").decode(data)
    assert psnr(jpegplus.decompress(data), photo) > psnr(plain, photo) + 0.3
    assert list(Image.open(io.BytesIO(data)).quantization[0]) == restoration_tables(20)[0].astype(int).tolist()


def test_full_mode_quantizes_by_trellis_where_the_restoring_network_learned_it(photo: np.ndarray) -> None:
    codec = JpegCodec()
    chosen = {q: learned_trellis(codec, select("jpeg", Mode.FULL), q) for q in (10, 60)}
    assert chosen[10]  # the shipped lean network was fine-tuned on trellis-quantized files
    for quality, trellis in chosen.items():
        data = jpegplus.compress(photo, codec="jpeg", quality=quality, mode="full")
        expected = codec.for_restoration(trellis=trellis).encode(photo, quality)
        assert np.array_equal(codec.decode(data), codec.decode(expected))
        rounded = codec.decode(codec.for_restoration().encode(photo, quality))
        assert np.array_equal(codec.decode(data), rounded) is not trellis


def test_downsample_beats_bicubic_of_the_compact() -> None:
    photo = np.ascontiguousarray(skimage_data.astronaut()[::2, ::2])
    data = jpegplus.compress(photo, codec="jpeg", quality=70, mode="downsample")
    compact = get_codec("jpeg").decode(data)
    bicubic = np.asarray(Image.fromarray(compact).resize((256, 256), Image.Resampling.BICUBIC))
    assert psnr(jpegplus.decompress(data), photo) > psnr(bicubic, photo) + 0.5
    assert list(Image.open(io.BytesIO(data)).quantization[0]) == standard_tables(70)[0].astype(int).tolist()


@pytest.mark.parametrize("mode", MODES)
def test_gray_in_gray_out(mode: str, gray_photo: np.ndarray) -> None:
    out = jpegplus.decompress(jpegplus.compress(gray_photo, quality=70, mode=mode))
    assert out.shape == gray_photo.shape and psnr(out, gray_photo) > 26


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 13, 3), (13, 7), (33, 17, 3)])
@pytest.mark.parametrize("mode", MODES)
def test_odd_sizes(shape: tuple[int, ...], mode: str) -> None:
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert jpegplus.decompress(jpegplus.compress(image, mode=mode)).shape == shape


def test_inputs_path_pil_bytes_agree(tmp_path, photo: np.ndarray) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    expected = jpegplus.compress(photo)
    assert jpegplus.compress(path) == expected
    assert jpegplus.compress(Image.open(path)) == expected
    assert jpegplus.compress(path.read_bytes()) == expected


def test_exif_orientation_and_icc_survive(photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    source = io.BytesIO()
    Image.fromarray(photo).save(source, "PNG", exif=exif.tobytes(), icc_profile=b"fake-icc")
    data = jpegplus.compress(source.getvalue(), quality=60)
    picture = Image.open(io.BytesIO(data))
    assert picture.getexif()[0x0112] == 8 and picture.info["icc_profile"] == b"fake-icc"
    restored = jpegplus.pipeline.decompress_image(data)
    assert restored.icc == b"fake-icc" and restored.exif is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"codec": "bpg"}, "known codecs"), ({"quality": 0}, "1 to 100"), ({"quality": 101}, "1 to 100"),
     ({"mode": "half"}, "known modes")],
)  # fmt: skip
def test_bad_options(kwargs: dict, message: str, photo: np.ndarray) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        jpegplus.compress(photo, **kwargs)


def test_errors_name_the_keyword_and_an_empty_path(photo: np.ndarray) -> None:
    with pytest.raises(InvalidOptionError, match="^strength must be an integer from 1 to 100, got 0"):
        jpegplus.enhance(photo, strength=0)
    with pytest.raises(InvalidInputError, match="an empty path names no file"):
        jpegplus.compress("")  # not the current folder


@pytest.mark.parametrize(
    "call",
    [
        lambda img, data: jpegplus.compress(img, target_size="40KB"),
        lambda img, data: jpegplus.compress(img, target_size=-5),
        lambda img, data: jpegplus.compress(img, target_psnr="high"),
        lambda img, data: jpegplus.compress(img, saliency="yes"),
        lambda img, data: jpegplus.compress(img, device="bogus"),
        lambda img, data: jpegplus.compress(img, max_pixels=0),
        lambda img, data: jpegplus.compress(img, codec=5),
        lambda img, data: jpegplus.decompress(data, device="cuda:7"),
        lambda img, data: jpegplus.decompress(img),
        lambda img, data: jpegplus.decompress(3.5),
        lambda img, data: jpegplus.enhance(data, strength="strong"),
        lambda img, data: jpegplus.enhance({"not": "an image"}),
    ],
)
def test_bad_arguments_raise_only_jpegplus_errors(call, photo: np.ndarray) -> None:
    with pytest.raises(jpegplus.JpegPlusError):
        call(photo, jpegplus.compress(photo))


def test_codec_names_in_any_case(photo: np.ndarray) -> None:
    assert jpegplus.compress(photo, codec="JPEG") == jpegplus.compress(photo, codec="jpeg")


def test_decompress_and_enhance_take_paths_and_file_objects(tmp_path, photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, quality=40)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    expected = jpegplus.decompress(data)
    assert np.array_equal(jpegplus.decompress(path), expected)
    assert np.array_equal(jpegplus.decompress(str(path)), expected)
    with path.open("rb") as stream:
        assert np.array_equal(jpegplus.decompress(stream), expected)
    plain = jpeg_bytes(photo, 30)
    assert np.array_equal(jpegplus.enhance(io.BytesIO(plain)), jpegplus.enhance(plain))


def test_outputs_are_contiguous_arrays_opencv_draws_on(photo: np.ndarray, gray_photo: np.ndarray) -> None:
    outputs = [
        jpegplus.decompress(jpegplus.compress(photo)),
        jpegplus.decompress(jpegplus.compress(gray_photo)),
        jpegplus.enhance(jpeg_bytes(photo, 30)),
    ]
    for out in outputs:
        assert out.flags["C_CONTIGUOUS"]
        cv2.rectangle(out, (1, 1), (10, 10), 255, 2)  # raises on a strided view


def test_pixel_limit_is_checked_before_decoding(photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, quality=50)
    with pytest.raises(InvalidInputError, match="over the limit of 100"):
        jpegplus.compress(jpeg_bytes(photo, 90), max_pixels=100)
    with pytest.raises(InvalidInputError, match="over the limit"):
        jpegplus.enhance(jpeg_bytes(photo, 90), max_pixels=100)
    claims_more = retag(data, width=12_000, height=12_000)  # a small file claiming 144 MP
    with pytest.raises(InvalidInputError, match="metadata claims"):
        jpegplus.decompress(claims_more)
    assert jpegplus.decompress(data, max_pixels=96 * 128).shape == photo.shape


def test_an_implausible_size_is_refused_and_one_the_file_does_not_show_gives_way_to_the_file(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    data = jpegplus.compress(photo, quality=50, mode="downsample")
    huge = retag(data, width=100_000, height=100_000)
    with pytest.raises(MetadataError, match="implausible"):
        jpegplus.decompress(huge)
    with caplog.at_level(logging.WARNING):
        restored = jpegplus.decompress(retag(data, width=300))  # stores 64x48 pixels, claims 150x48
    assert "is 64x48, not the 150x48 jpegplus wrote (cropped or resized since?): restored at 128x96" in caplog.text
    assert restored.shape == photo.shape and psnr(photo, restored) > 25


def edited_since(data: bytes, edit: Callable[[np.ndarray], np.ndarray]) -> bytes:
    """A jpegplus JPEG whose pixels an editor changed, re-encoded with the file's tables and keeping its payload."""
    jpeg = get_codec("jpeg")
    record = jpeg.read_payload(data)
    assert record is not None
    picture = Image.open(io.BytesIO(data))
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(edit(np.asarray(picture)))).save(buffer, "JPEG", qtables=picture.quantization)
    return jpeg.attach(buffer.getvalue(), record)


@pytest.mark.parametrize(
    ("edit", "said"),
    [(np.rot90, "turned a quarter from what jpegplus wrote"), (lambda p: p[16:80, 16:112], "cropped or resized")],
)
def test_a_full_mode_file_turned_or_cropped_since_is_restored_as_it_shows(
    photo: np.ndarray, edit: Callable[[np.ndarray], np.ndarray], said: str, caplog: pytest.LogCaptureFixture
) -> None:
    changed = edited_since(jpegplus.compress(photo, quality=30, mode="full"), edit)
    with caplog.at_level(logging.WARNING):
        restored = jpegplus.decompress(changed)
    assert said in caplog.text
    original = edit(photo)
    assert restored.shape == original.shape
    assert psnr(original, restored) > psnr(original, np.asarray(Image.open(io.BytesIO(changed)))) + 0.5


def test_foreign_model_is_refused(photo: np.ndarray) -> None:
    full = jpegplus.compress(photo, quality=50, mode="full")
    with pytest.raises(MetadataError, match="does not fit a jpeg file"):
        jpegplus.decompress(retag(full, model="webp-artifacts@00000000"))  # another codec's model
    data = jpegplus.compress(photo, quality=50, mode="downsample")
    with pytest.raises(MetadataError, match="does not have"):
        jpegplus.decompress(retag(data, model="evil-downsample@00000000"))
    with pytest.raises(MetadataError, match="does not fit"):
        jpegplus.decompress(retag(data, model="jpeg-artifacts@00000000"))
    with pytest.raises(MetadataError, match="files store one of"):
        jpegplus.decompress(retag(data, mode="auto"))


def test_file_with_format_1_payload_still_decompresses(photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, quality=50, mode="full")
    old = retag(data)  # the same fields in the ASCII payload jpegplus wrote before format 2
    assert payload.extract(old).version == 1
    restored = jpegplus.decompress(old)
    assert restored.shape == photo.shape and psnr(restored, get_codec("jpeg").decode(old)) > 35


def test_plain_file_is_not_decompressed(photo: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match="not a jpegplus file"):
        jpegplus.decompress(jpeg_bytes(photo, 50))


def test_truncated_file_is_refused(photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, quality=50)
    with pytest.raises(jpegplus.JpegPlusError):
        jpegplus.decompress(data[: len(data) // 2])


def test_enhance_removes_artifacts(photo: np.ndarray) -> None:
    data = jpeg_bytes(photo, 15)
    plain = get_codec("jpeg").decode(data)
    enhanced = jpegplus.enhance(data)
    assert psnr(enhanced, photo) > psnr(plain, photo) + 0.3
    again = to_image(project(to_tensor(enhanced), JpegCells.read(data)), gray=False)
    assert np.abs(again.astype(int) - enhanced).mean() < 0.05  # its luma already lies in the file's cells


@pytest.mark.parametrize(
    ("quality", "options", "network"),
    [
        (80, {}, "jpeg-enhance-light"),  # 4:2:0
        (80, {"subsampling": "4:2:2"}, "jpeg-enhance-light"),
        (50, {}, "jpeg-enhance"),  # below the slim stand-in's quality (75)
        (50, {"subsampling": "4:4:4"}, "jpeg-artifacts-light"),
        (40, {"subsampling": "4:4:4"}, "jpeg-artifacts-light"),  # from the artifact pair's (30)
        (15, {"subsampling": "4:4:4"}, "jpeg-enhance"),
        (15, {}, "jpeg-enhance"),
        (50, {"qtables": [t.astype(int).tolist() for t in restoration_tables(50)]}, "jpeg-enhance"),  # own tables
        (
            50,
            {"qtables": [t.astype(int).tolist() for t in restoration_tables(50)], "subsampling": "4:4:4"},
            "jpeg-artifacts-light",
        ),
    ],
)
def test_enhance_picks_its_network_from_the_file(
    quality: int, options: dict[str, str], network: str, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _spy_on_networks(monkeypatch)
    jpegplus.enhance(jpeg_bytes(photo, quality, **options))
    assert loaded == [_enhance_pair().get(network, network)]


def test_enhance_of_gray_files_and_of_pixels_without_a_file(
    photo: np.ndarray, gray_photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _spy_on_networks(monkeypatch)
    jpegplus.enhance(jpeg_bytes(gray_photo, 50))
    jpegplus.enhance(jpeg_bytes(gray_photo, 15))
    jpegplus.enhance(jpeg_bytes(gray_photo, 50, qtables=[restoration_tables(50)[0].astype(int).tolist()]))
    jpegplus.enhance(photo, strength=50)
    jpegplus.enhance(photo, strength=15)
    jpegplus.enhance(gray_photo, strength=15)
    pair = _enhance_pair()
    assert loaded == [
        pair["jpeg-artifacts-light"], pair["jpeg-artifacts"], "jpeg-enhance",  # gray files: standard tables, own
        pair["jpeg-artifacts-light"], "jpeg-enhance", pair["jpeg-artifacts"],  # pixels without a file
    ]  # fmt: skip


def _enhance_pair() -> dict[str, str]:
    """The entries of the artifact pair enhance was measured with, by the names of the current pair."""
    paired = select_enhance_artifacts()
    light = stand_in(paired)
    assert light is not None
    return {"jpeg-artifacts": paired.name, "jpeg-artifacts-light": light.name}


def _spy_on_networks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the networks the pipeline loads from now on, in order."""
    from jpegplus import pipeline

    loaded: list[str] = []

    def load(name: str) -> object:
        loaded.append(name)
        return pipeline_load(name)

    pipeline_load = pipeline.load_model
    monkeypatch.setattr(pipeline, "load_model", load)
    return loaded


def test_enhance_gray_and_strength(gray_photo: np.ndarray) -> None:
    data = jpeg_bytes(gray_photo, 20)
    out = jpegplus.enhance(data)
    assert out.shape == gray_photo.shape
    assert not np.array_equal(jpegplus.enhance(data, strength=95), jpegplus.enhance(data, strength=5))
    with pytest.raises(InvalidOptionError):
        jpegplus.enhance(data, strength=0)


def test_enhance_takes_pixels_whose_file_is_gone(photo: np.ndarray) -> None:
    decoded = get_codec("jpeg").decode(jpeg_bytes(photo, 15))
    shifted, reference = decoded[3:, 5:], photo[3:, 5:]  # a crop: the 8x8 grid no longer starts at the origin
    png = io.BytesIO()
    Image.fromarray(shifted).save(png, "PNG")
    from_png = jpegplus.enhance(png.getvalue())
    assert psnr(from_png, reference) > psnr(shifted, reference) + 0.3
    assert np.array_equal(jpegplus.enhance(shifted), from_png)
    assert np.array_equal(jpegplus.enhance(Image.fromarray(shifted)), from_png)


def test_enhance_leaves_pixels_without_a_jpeg_trace_unchanged() -> None:
    clean = np.asarray(Image.fromarray(skimage_data.astronaut()).reduce(4))  # averaged: no 8x8 lattice left
    unchanged = jpegplus.enhance(clean)
    assert np.array_equal(unchanged, clean) and unchanged is not clean and unchanged.flags.writeable  # a copy
    webp = get_codec("webp").encode(clean, 50)
    assert np.array_equal(jpegplus.enhance(webp), get_codec("webp").decode(webp))
    assert not np.array_equal(jpegplus.enhance(clean, strength=20), clean)  # asked for: filtered anyway


def test_enhance_with_luma_sampled_coarser_than_chroma(photo: np.ndarray, tmp_path) -> None:
    jpeglib = pytest.importorskip("jpeglib")
    path = tmp_path / "odd-sampling.jpg"
    odd = jpeglib.from_spatial(photo)
    odd.samp_factor = np.array([[1, 1], [2, 2], [2, 2]])
    odd.write_spatial(str(path), qt=20)
    plain = np.asarray(Image.open(path).convert("RGB"))
    enhanced = jpegplus.enhance(path)
    assert enhanced.shape == photo.shape
    assert psnr(enhanced, photo) > psnr(plain, photo)  # restored, without the (inapplicable) luma projection


def _bpp(data: bytes, image: np.ndarray) -> float:
    return len(data) * 8 / image.shape[0] / image.shape[1]


def test_auto_mode_keeps_the_dimensions_unless_allowed_half_size() -> None:
    photo = np.ascontiguousarray(skimage_data.astronaut()[::2, ::2])
    for data in (jpegplus.compress(photo, quality=2), jpegplus.compress(photo, target_size=2000)):
        assert payload.extract(data).mode == "full"
        assert Image.open(io.BytesIO(data)).size == (256, 256)  # what a plain viewer shows
    half = jpegplus.compress(photo, quality=2, allow_half_size=True)
    assert Image.open(io.BytesIO(half)).size == (128, 128)


def test_auto_mode_picks_by_rate() -> None:
    photo = np.ascontiguousarray(skimage_data.astronaut()[::2, ::2])  # 256×256: headers weigh little in its bpp
    low = jpegplus.compress(photo, quality=2, allow_half_size=True)  # below the crossover rate
    high = jpegplus.compress(photo, quality=90, allow_half_size=True)
    assert payload.extract(low).mode == "downsample" and payload.extract(high).mode == "full"
    full_low = jpegplus.compress(photo, quality=2, mode="full")
    assert len(low) <= len(full_low)
    assert psnr(jpegplus.decompress(low), photo) > psnr(jpegplus.decompress(full_low), photo)
    # AVIF's half-resolution path never wins
    never_downsampled = jpegplus.compress(photo, codec="avif", quality=2, allow_half_size=True)
    assert payload.extract(never_downsampled).mode == "full"


def test_auto_tuned_for_ms_ssim_keeps_the_path_that_scores_higher_in_it() -> None:
    photo = np.ascontiguousarray(skimage_data.astronaut()[::2, ::2])
    by_psnr = jpegplus.compress(photo, quality=30, allow_half_size=True)
    by_ms_ssim = jpegplus.compress(photo, quality=30, allow_half_size=True, tune="ms-ssim")
    assert payload.extract(by_psnr).mode == "full" and payload.extract(by_ms_ssim).mode == "downsample"
    assert len(by_ms_ssim) <= len(by_psnr)
    restored = {name: jpegplus.decompress(data) for name, data in (("psnr", by_psnr), ("ms-ssim", by_ms_ssim))}
    assert ms_ssim(photo, restored["ms-ssim"]) > ms_ssim(photo, restored["psnr"])
    assert psnr(photo, restored["psnr"]) > psnr(photo, restored["ms-ssim"])  # each wins its own metric
    high = jpegplus.compress(photo, quality=50, allow_half_size=True, tune="ms-ssim")
    assert payload.extract(high).mode == "full"  # full mode also wins MS-SSIM at higher rates
    with pytest.raises(InvalidOptionError, match="unknown tune 'ssim'; known tunes: psnr, ms-ssim"):
        jpegplus.compress(photo, allow_half_size=True, tune="ssim")


def test_auto_mode_decides_per_image_below_the_crossover() -> None:
    checker = np.full((256, 256, 3), 128, np.uint8)  # 1-pixel detail that half resolution cannot hold
    rows, cols = np.mgrid[0:48, 0:48]
    checker[100:148, 100:148] = (((rows + cols) % 2) * 255)[..., None]
    data = jpegplus.compress(checker, quality=20, allow_half_size=True)
    assert _bpp(data, checker) < select(CodecName.JPEG.value, Mode.FULL).crossover_bpp
    assert payload.extract(data).mode == "full"
    half = jpegplus.compress(checker, quality=20, mode="downsample", target_size=len(data))
    assert psnr(jpegplus.decompress(data), checker) > psnr(jpegplus.decompress(half), checker) + 1
    to_size = jpegplus.compress(checker, target_size=len(data), allow_half_size=True)  # the same choice by size
    assert payload.extract(to_size).mode == "full" and len(to_size) <= len(data)


def test_target_size(photo: np.ndarray) -> None:
    for target in (1500, 4000):
        data = jpegplus.compress(photo, target_size=target)
        assert target * 0.8 <= len(data) <= target
    with pytest.raises(InvalidOptionError, match="cannot fit"):
        jpegplus.compress(photo, target_size=50, mode="full")


def test_target_size_spends_the_budget_where_trellis_stops() -> None:
    # quality 25's file is trellis-quantized, 26's rounded and a fifth larger: a budget just under 26's is
    # spent on a trellis file of a higher quality, which the stand-in restores better than 25's
    photo = np.ascontiguousarray(skimage_data.astronaut()[::2, ::2])
    codec = JpegCodec()
    limit = next(q for q in range(1, 100) if not learned_trellis(codec, select("jpeg", Mode.FULL), q + 1))
    below, above = (jpegplus.compress(photo, quality=q, mode="full") for q in (limit, limit + 1))
    assert len(above) > 1.1 * len(below)
    data = jpegplus.compress(photo, target_size=len(above) - 1, mode="full")
    assert 0.95 * (len(above) - 1) <= len(data) < len(above) and payload.extract(data).quality > limit + 1
    assert psnr(jpegplus.decompress(data), photo) > psnr(jpegplus.decompress(below), photo) + 0.3
    salient = jpegplus.compress(photo, target_size=len(above) - 1, mode="full", saliency=True)
    assert 0.95 * (len(above) - 1) <= len(salient) < len(above)


def test_target_psnr(photo: np.ndarray) -> None:
    data = jpegplus.compress(photo, target_psnr=30.0, mode="full")
    assert psnr(jpegplus.decompress(data), photo) >= 30.0
    lower = payload.extract(data).quality - 1
    assert psnr(jpegplus.decompress(jpegplus.compress(photo, quality=lower, mode="full")), photo) < 30.0


@pytest.mark.parametrize("mode", MODES)
def test_large_image_goes_through_tiles(mode: str) -> None:
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (12, 22, 3), dtype=np.uint8)
    image = np.asarray(Image.fromarray(small).resize((2210, 1130), Image.Resampling.BICUBIC))  # > one 1024 tile
    out = jpegplus.decompress(jpegplus.compress(image, quality=80, mode=mode))
    assert out.shape == image.shape and psnr(out, image) > 30
