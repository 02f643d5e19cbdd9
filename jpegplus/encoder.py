"""The encode side of compress: the stored image of one mode, encodable at any quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegplus import container, inference
from jpegplus.codecs import Codec
from jpegplus.io import LoadedImage, to_image, to_tensor
from jpegplus.modes import Mode, model_name
from jpegplus.runtime import resolve_device
from jpegplus.weights import load_model


@dataclass(frozen=True)
class ModeEncoder:
    """What the codec will hold in one mode (ComCNN run once), ready to encode at any quality."""

    loaded: LoadedImage
    codec: Codec
    mode: Mode
    stored: np.ndarray
    model_id: str

    @classmethod
    def prepare(cls, loaded: LoadedImage, codec: Codec, mode: Mode, device: str | None) -> ModeEncoder:
        """Load the mode's model and, for the half-resolution mode, make the compact image."""
        model = load_model(model_name(codec.name, mode))
        stored = loaded.pixels
        if mode is Mode.DOWNSAMPLE:
            if model.compact is None:
                msg = f"model {model.spec.model_id} has no ComCNN"
                raise RuntimeError(msg)
            compact = inference.make_compact(model.compact, to_tensor(stored), resolve_device(device))
            stored = to_image(compact, gray=stored.ndim == 2)
        return cls(loaded, codec, mode, stored, model.spec.model_id)

    @property
    def pixels(self) -> int:
        """Pixels of the original image (the denominator of bits per pixel)."""
        return self.loaded.pixels.shape[0] * self.loaded.pixels.shape[1]

    def encode(self, quality: int) -> bytes:
        """A standard file of the codec with the jpegplus payload, EXIF and ICC."""
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
        return self.codec.encode(self.stored, quality, exif=self.loaded.exif, icc=self.loaded.icc, payload=payload)
