"""``jpegplus.open``: the restored picture as a PIL image with its metadata, for ``Image.open``-style code."""

from __future__ import annotations

from PIL import Image

from jpegplus import payload, pipeline
from jpegplus.io import EncodedSource, LoadedImage, read_encoded
from jpegplus.options import DEFAULT_MAX_PIXELS


def to_pil(loaded: LoadedImage) -> Image.Image:
    """``loaded`` as a PIL image (RGB, RGBA, L or LA) whose ``info`` carries its EXIF, ICC profile, XMP and dpi."""
    picture = Image.fromarray(loaded.array)
    kept = {"exif": loaded.exif, "icc_profile": loaded.icc, "xmp": loaded.xmp, "dpi": loaded.dpi}
    picture.info.update({key: value for key, value in kept.items() if value})
    return picture


def open(  # noqa: A001 - named like PIL.Image.open, which it stands in for
    source: EncodedSource, *, device: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """Open an image file the way jpegplus shows it: a jpegplus file decompressed to its original size,
    any other image through :func:`jpegplus.enhance` (a plain JPEG restored using its quantization tables,
    pixels without a JPEG trace unchanged).

    ``source`` is bytes, a path or a binary file object. EXIF (with its orientation tag, as
    ``PIL.ImageOps.exif_transpose`` expects), the ICC profile and XMP are in the image's ``info``.
    """
    data = read_encoded(source)
    if payload.extract(data) is not None:
        return to_pil(pipeline.decompress_image(data, device=device, max_pixels=max_pixels))
    return to_pil(pipeline.enhance_image(data, device=device, max_pixels=max_pixels))
