"""The exceptions jpegplus raises; every one is a :class:`JpegPlusError`."""

from __future__ import annotations


class JpegPlusError(Exception):
    """Base class of every error jpegplus reports to a user."""


class InvalidInputError(JpegPlusError, ValueError):
    """The input is not a usable image or encoded file (unreadable, truncated, too large)."""


class InvalidOptionError(JpegPlusError, ValueError):
    """An option is out of range or unknown (codec, quality, mode, strength)."""


class MetadataError(JpegPlusError, ValueError):
    """The jpegplus metadata inside a file is missing, malformed or inconsistent."""


class WeightsError(JpegPlusError, RuntimeError):
    """A weights file is missing, corrupt or does not match its manifest."""


class OutputError(JpegPlusError, OSError):
    """An output cannot be written (exists without --force, unwritable folder)."""
