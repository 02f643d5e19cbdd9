"""Saliency maps: where people look (spectral residual, Hou & Zhang, CVPR 2007, with a centre prior)."""

from __future__ import annotations

import cv2
import numpy as np

WORK_WIDTH = 128  # the spectral residual works on a small image: its "novel" frequencies are objects
CENTRE_WEIGHT = 0.3  # photographers centre their subject; a mild Gaussian prior breaks ties


def saliency_map(image: np.ndarray) -> np.ndarray:
    """A float32 (H, W) map in [0, 1], high where the eye is drawn.

    The log-amplitude spectrum minus its local average (the "spectral residual") keeps what
    is unexpected in the image; transformed back with the original phase and smoothed, it
    marks objects, faces and text against regular background.

    >>> saliency_map(np.zeros((40, 60, 3), np.uint8)).shape
    (40, 60)
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    small_w = min(WORK_WIDTH, width)
    small_h = max(1, round(height * small_w / width))
    small = cv2.resize(gray.astype(np.float32), (small_w, small_h), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    salient = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    salient = cv2.GaussianBlur(salient.astype(np.float32), (0, 0), sigmaX=max(small_w / 40, 1.0))
    salient = _normalise(salient)
    rows = np.linspace(-1, 1, small_h)[:, None]
    cols = np.linspace(-1, 1, small_w)[None, :]
    centre = np.exp(-(rows**2 + cols**2) / 0.5).astype(np.float32)
    blended = _normalise((1 - CENTRE_WEIGHT) * salient + CENTRE_WEIGHT * centre)
    return cv2.resize(blended, (width, height), interpolation=cv2.INTER_LINEAR)


def _normalise(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def saliency_png(image: np.ndarray) -> bytes:
    """The saliency map of ``image`` as an 8-bit gray PNG, for a person to check."""
    ok, encoded = cv2.imencode(".png", np.round(saliency_map(image) * 255).astype(np.uint8))
    if not ok:
        msg = "PNG encoding of the saliency map failed"
        raise RuntimeError(msg)
    return encoded.tobytes()


def prefilter(image: np.ndarray, saliency: np.ndarray, *, sigma: float = 1.2) -> np.ndarray:
    """For codecs without per-region control: blur the non-salient regions so they cost fewer bits."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)
    weight = saliency if image.ndim == 2 else saliency[:, :, None]
    mixed = weight * image.astype(np.float32) + (1.0 - weight) * blurred.astype(np.float32)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)
