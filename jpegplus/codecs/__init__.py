"""Standard image codecs behind one registry: ``get_codec(name).encode/decode``."""

from jpegplus.codecs.registry import (
    Codec,
    CodecName,
    RegionQuantizer,
    RestorationEncoder,
    get_codec,
    list_codecs,
)

# Importing the adapters registers them (the only import-time side effect allowed).
from jpegplus.codecs import avif, jpeg2000, webp  # noqa: E402,F401  isort: skip
import jpegplus.codecs.jpeg.codec  # noqa: E402,F401  isort: skip

__all__ = ["Codec", "CodecName", "RegionQuantizer", "RestorationEncoder", "get_codec", "list_codecs"]
