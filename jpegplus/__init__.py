"""jpegplus: neural compression around standard codecs; every file it writes is a standard file.

>>> import numpy as np, jpegplus
>>> image = np.full((32, 48, 3), 128, np.uint8)
>>> jpegplus.decompress(jpegplus.compress(image, codec="jpeg", quality=60)).shape
(32, 48, 3)
"""

from jpegplus.errors import (
    InvalidInputError,
    InvalidOptionError,
    JpegPlusError,
    MetadataError,
    OutputError,
    WeightsError,
)
from jpegplus.modes import Mode
from jpegplus.pipeline import compress, decompress, enhance

__version__ = "0.1.0"

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
