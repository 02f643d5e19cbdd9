"""The encode side of compress: the stored image of one mode, encodable at any quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jpegplus import inference, payload
from jpegplus.codecs import Codec, RegionQuantizer, RestorationEncoder
from jpegplus.codecs.jpeg.appended import with_appended
from jpegplus.io import LoadedImage, to_image, to_tensor
from jpegplus.modes import Mode
from jpegplus.runtime import resolve_device
from jpegplus.saliency import prefilter, saliency_map
from jpegplus.transparency import resize_alpha
from jpegplus.weights import WeightsSpec, lighter, load_model, select

DEAD_ZONE_STEPS = 6  # bisection steps of the saliency dead zone after a size search (1/64 of its range)


def full_mode_codec(codec: Codec, spec: WeightsSpec, quality: int, *, trellis: bool | None = None) -> Codec:
    """``codec`` as compress writes a full-mode file at ``quality`` for ``spec``'s networks: the restoration
    settings, with trellis quantization where the network that will restore the file was trained on it
    (:func:`learned_trellis`) unless ``trellis`` says otherwise (a codec without restoration settings as it is)."""
    if not isinstance(codec, RestorationEncoder):
        return codec
    return codec.for_restoration(trellis=learned_trellis(codec, spec, quality) if trellis is None else trellis)


def learned_trellis(codec: RestorationEncoder, spec: WeightsSpec, quality: int) -> bool:
    """Whether the network restoring ``codec``'s full-mode file of ``quality`` for ``spec`` learned trellis files."""
    condition = codec.restoration_condition(quality)
    return lighter(spec, condition).trellis_at(condition)


@dataclass(frozen=True)
class ModeEncoder:
    """What the codec will hold in one mode (ComCNN run once), ready to encode at any quality."""

    loaded: LoadedImage
    codec: Codec
    mode: Mode
    stored: np.ndarray
    spec: WeightsSpec  # the mode's model, whose id the file carries
    saliency: np.ndarray | None = None

    @classmethod
    def prepare(
        cls, loaded: LoadedImage, codec: Codec, mode: Mode, device: str | None, *, saliency: bool = False
    ) -> ModeEncoder:
        """Load the mode's model, make the compact image (half-resolution mode) and its saliency map."""
        model = load_model(select(codec.name, mode).name)
        stored = loaded.pixels
        if mode is Mode.DOWNSAMPLE:
            if model.compact is None:
                msg = f"model {model.spec.model_id} has no ComCNN"
                raise RuntimeError(msg)
            compact = inference.make_compact(model.compact, to_tensor(stored), resolve_device(device))
            stored = to_image(compact, gray=stored.ndim == 2)
        salient = saliency_map(stored) if saliency else None
        if salient is not None and not isinstance(codec, RegionQuantizer):
            stored = prefilter(stored, salient)  # no per-region control: soften what nobody looks at
        return cls(loaded, codec, mode, stored, model.spec, salient)

    @property
    def region_quantized(self) -> bool:
        """Whether saliency acts inside the codec (JPEG: per block) rather than by a pre-filter."""
        return self.saliency is not None and isinstance(self.codec, RegionQuantizer)

    @property
    def pixels(self) -> int:
        """Pixels of the original image (the denominator of bits per pixel)."""
        return self.loaded.pixels.shape[0] * self.loaded.pixels.shape[1]

    def encode(self, quality: int, *, dead_zone: float | None = None, trellis: bool | None = None) -> bytes:
        """A standard file of the codec with the jpegplus payload, alpha (at the stored size), EXIF, ICC and XMP
        (and what a JPEG's file holds after its picture, :mod:`~jpegplus.codecs.jpeg.appended`).

        Full mode asks a :class:`~jpegplus.codecs.RestorationEncoder` codec for its restoration settings
        (the half-resolution model learned the standard ones), with trellis quantization where the network
        that will restore the file was trained on it (``trellis`` in the manifest, up to its
        ``trellis_highest_quality``), or as ``trellis`` says. ``dead_zone``: with saliency on a
        :class:`~jpegplus.codecs.RegionQuantizer` codec, that of the least salient regions (default: the codec's).
        """
        original = self.loaded.pixels
        metadata = payload.Metadata(
            width=original.shape[1],
            height=original.shape[0],
            channels=1 if original.ndim == 2 else 3,
            mode=self.mode.value,
            codec=self.codec.name,
            quality=quality,
            model=self.spec.model_id,
        )
        stored = payload.embed(self._encode_stored(quality, dead_zone, trellis), metadata)
        return with_appended(stored, self.loaded.appended)

    def _encode_stored(self, quality: int, dead_zone: float | None, trellis: bool | None) -> bytes:
        """The stored image as a file of the codec, with alpha and what the original carries beside its pixels
        (its density too in half-resolution mode: decompress gives back the original's pixels, which it describes)."""
        codec = self.codec
        if self.mode is Mode.FULL:
            codec = full_mode_codec(codec, self.spec, quality, trellis=trellis)
        if self.saliency is not None and isinstance(codec, RegionQuantizer):  # JPEG: no alpha
            return codec.encode_salient(
                self.stored, quality, self.saliency, max_threshold=dead_zone, **self.loaded.carried
            )
        alpha = None if self.loaded.alpha is None else resize_alpha(self.loaded.alpha, self.stored.shape)
        return codec.encode(self.stored, quality, alpha=alpha, **self.loaded.carried)

    def trellis_past_its_limit(self, quality: int, target_size: int) -> tuple[int, bytes] | None:
        """Where compress's trellis stops right above ``quality`` (a size search's answer), the highest quality
        whose trellis-quantized full-mode file still fits ``target_size``, with that file (``None`` elsewhere).

        The rounded file of the next quality is a fifth larger than the trellis one: a budget between them
        would otherwise be up to a fifth unspent. On the 10 held-out photos, budgets just under the rounded
        file of quality 26: +0.79 dB and +0.007 MS-SSIM on average, 98% of the budget spent instead of 80%;
        halfway between the two files +0.24 dB and +0.002 (98% instead of 89%); every photo gains. The
        network that restores a file above the limit was trained on rounded ones.
        """
        codec = self.codec
        if self.mode is not Mode.FULL or not isinstance(codec, RestorationEncoder) or quality >= 100:
            return None
        if not learned_trellis(codec, self.spec, quality) or learned_trellis(codec, self.spec, quality + 1):
            return None
        best = None
        for higher in range(quality + 1, 101):  # a few steps: each quality adds a few percent
            data = self.encode(higher, trellis=True)
            if len(data) > target_size:
                break
            best = higher, data
        return best

    def narrowest_dead_zone(self, quality: int, target_size: int, *, trellis: bool | None = None) -> bytes | None:
        """With saliency on a region-quantizing codec, at ``quality`` (and ``trellis`` as :meth:`encode` takes
        it) the narrowest background dead zone that fits ``target_size`` (``None`` when none does, or the codec
        has no dead zone).

        Called after a size search found ``quality``: the spare bytes go back to the background.
        """
        if not isinstance(self.codec, RegionQuantizer):
            return None
        low, high, best = 0.0, self.codec.max_threshold, None
        for _ in range(DEAD_ZONE_STEPS):
            middle = (low + high) / 2
            data = self.encode(quality, dead_zone=middle, trellis=trellis)
            if len(data) <= target_size:
                best, high = data, middle
            else:
                low = middle
        return best
