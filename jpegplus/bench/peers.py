"""The JPEG encoders a user would pick instead of jpegplus, run by ``jpegplus bench --peers``.

Each peer writes an ordinary JPEG at a libjpeg-style 1–100 quality; the bench decodes it with
Pillow (what a viewer shows) and, with ``--enhance``, with :func:`jpegplus.enhance` (the cheapest
thing a user could add instead of compress).
"""

from __future__ import annotations

import enum
import io
from typing import NewType

import numpy as np
import pyjpegli
from PIL import Image

from jpegplus.bench.options import comma_separated
from jpegplus.codecs import CodecName
from jpegplus.codecs.jpeg.trellis import cjpeg_default
from jpegplus.errors import InvalidOptionError


class Peer(str, enum.Enum):
    """A peer encoder; its value is the option name, :attr:`curve` the benchmark curve."""

    JPEGLI = "jpegli"  # Google's jpegli (pyjpegli; 4:2:0, its own adaptive quantization)
    PROGRESSIVE = "progressive"  # libjpeg-turbo progressive with optimized Huffman tables (Pillow)
    MOZJPEG = "mozjpeg"  # mozjpeg's defaults, as cjpeg: its tables, trellis quantization, progressive (jpeglib)

    @property
    def curve(self) -> str:
        """The name of the peer's curve in results.json and the report."""
        return {Peer.JPEGLI: "jpegli", Peer.PROGRESSIVE: "progressive-jpeg", Peer.MOZJPEG: "mozjpeg"}[self]

    @property
    def codec(self) -> CodecName:
        """The codec of the peer's files, which decodes them and whose curves it runs beside."""
        return CodecName.JPEG


Peers = NewType("Peers", tuple[Peer, ...])  # the parsed ``--peers`` option (a plain tuple annotation reads as arity)


def parse_peers(text: str) -> Peers:
    """``"jpegli,progressive"`` → the peers, in order, without repeats; ``""`` → none.

    >>> parse_peers("progressive, jpegli")
    (<Peer.PROGRESSIVE: 'progressive'>, <Peer.JPEGLI: 'jpegli'>)
    """
    found: list[Peer] = []
    for name in (item.lower() for item in comma_separated(text)):
        try:
            peer = Peer(name)
        except ValueError:
            msg = f"unknown peer {name!r}; choose from {', '.join(p.value for p in Peer)}"
            raise InvalidOptionError(msg) from None
        if peer not in found:
            found.append(peer)
    return Peers(tuple(found))


def encode_peer(peer: Peer, image: np.ndarray, quality: int) -> bytes:
    """``image`` (uint8 RGB or gray) as the peer's JPEG at ``quality``."""
    if peer is Peer.JPEGLI:
        rgb = np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image)
        return bytes(pyjpegli.encode(rgb.tobytes(), rgb.shape[1], rgb.shape[0], quality))
    if peer is Peer.MOZJPEG:
        return cjpeg_default(image, quality)
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, "JPEG", quality=quality, subsampling="4:2:0", optimize=True, progressive=True
    )  # fmt: skip
    return buffer.getvalue()
