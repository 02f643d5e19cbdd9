"""The encode side of compress: the stored image of one mode, encodable at any quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegplus import container, inference
from jpegplus.codecs import Codec, CodecName
from jpegplus.io import LoadedImage, to_image, to_tensor
from jpegplus.modes import Mode, model_name
from jpegplus.regionquant import MAX_THRESHOLD, encode_salient, prefilter
from jpegplus.runtime import resolve_device
from jpegplus.saliency import saliency_map
from jpegplus.transparency import resize_alpha
from jpegplus.weights import load_model

DEAD_ZONE_STEPS = 6  # bisection steps of the saliency dead zone after a size search (1/64 of its range)


@dataclass(frozen=True)
class ModeEncoder:
    """What the codec will hold in one mode (ComCNN run once), ready to encode at any quality."""

    loaded: LoadedImage
    codec: Codec
    mode: Mode
    stored: np.ndarray
    model_id: str
    saliency: np.ndarray | None = None

    @classmethod
    def prepare(
        cls, loaded: LoadedImage, codec: Codec, mode: Mode, device: str | None, *, saliency: bool = False
    ) -> ModeEncoder:
        """Load the mode's model, make the compact image (half-resolution mode) and its saliency map."""
        model = load_model(model_name(codec.name, mode))
        stored = loaded.pixels
        if mode is Mode.DOWNSAMPLE:
            if model.compact is None:
                msg = f"model {model.spec.model_id} has no ComCNN"
                raise RuntimeError(msg)
            compact = inference.make_compact(model.compact, to_tensor(stored), resolve_device(device))
            stored = to_image(compact, gray=stored.ndim == 2)
        salient = saliency_map(stored) if saliency else None
        if salient is not None and codec.name != CodecName.JPEG.value:
            stored = prefilter(stored, salient)  # no per-block control: soften what nobody looks at
        return cls(loaded, codec, mode, stored, model.spec.model_id, salient)

    @property
    def region_quantized(self) -> bool:
        """Whether saliency acts per block (JPEG) rather than by a pre-filter."""
        return self.saliency is not None and self.codec.name == CodecName.JPEG.value

    @property
    def pixels(self) -> int:
        """Pixels of the original image (the denominator of bits per pixel)."""
        return self.loaded.pixels.shape[0] * self.loaded.pixels.shape[1]

    def encode(self, quality: int, *, dead_zone: float = MAX_THRESHOLD) -> bytes:
        """A standard file of the codec with the jpegplus payload, alpha (at the stored size), EXIF, ICC and XMP.

        ``dead_zone``: with saliency on JPEG, that of the least salient blocks (see :mod:`jpegplus.regionquant`).
        """
        original = self.loaded.pixels
        metadata = container.Metadata(
            width=original.shape[1],
            height=original.shape[0],
            channels=1 if original.ndim == 2 else 3,
            mode=self.mode.value,
            codec=self.codec.name,
            quality=quality,
            model=self.model_id,
        )
        payload = container.serialise(metadata)
        tags = {"exif": self.loaded.exif, "icc": self.loaded.icc, "xmp": self.loaded.xmp}
        restoration = self.mode is Mode.FULL  # the half-resolution model learned standard tables
        if self.region_quantized:  # JPEG: no alpha
            options = {"max_threshold": dead_zone, "restoration": restoration, **tags}
            salient = encode_salient(self.stored, quality, self.saliency, **options)
            return self.codec.attach(salient, payload)
        alpha = None if self.loaded.alpha is None else resize_alpha(self.loaded.alpha, self.stored.shape)
        return self.codec.encode(self.stored, quality, alpha=alpha, payload=payload, restoration=restoration, **tags)

    def narrowest_dead_zone(self, quality: int, target_size: int) -> bytes | None:
        """With saliency on JPEG, at ``quality`` the narrowest background dead zone that fits ``target_size``.

        Called after a size search found ``quality``: the spare bytes go back to the background.
        """
        low, high, best = 0.0, MAX_THRESHOLD, None
        for _ in range(DEAD_ZONE_STEPS):
            middle = (low + high) / 2
            data = self.encode(quality, dead_zone=middle)
            if len(data) <= target_size:
                best, high = data, middle
            else:
                low = middle
        return best
