"""jpegplus: neural compression around standard codecs; every file it writes is a standard file.

>>> import numpy as np, jpegplus
>>> image = np.full((32, 48, 3), 128, np.uint8)
>>> jpegplus.decompress(jpegplus.compress(image, codec="jpeg", quality=60)).shape
(32, 48, 3)
"""

import importlib
from typing import TYPE_CHECKING

from jpegplus.errors import (
    InvalidInputError,
    InvalidOptionError,
    JpegPlusError,
    MetadataError,
    OutputError,
    WeightsError,
)

if TYPE_CHECKING:
    from jpegplus.modes import Mode
    from jpegplus.pipeline import compress, decompress, enhance

__version__ = "0.1.0"

# The API below needs torch; it is imported on first use, so ``import jpegplus.cli`` (and
# ``jpegplus --help``) stays fast.
_LAZY = {
    "Mode": "jpegplus.modes",
    "compress": "jpegplus.pipeline",
    "decompress": "jpegplus.pipeline",
    "enhance": "jpegplus.pipeline",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'jpegplus' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "InvalidInputError",
    "InvalidOptionError",
    "JpegPlusError",
    "MetadataError",
    "Mode",
    "OutputError",
    "WeightsError",
    "compress",
    "decompress",
    "enhance",
]
