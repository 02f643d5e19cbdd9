"""Distortion metrics, one place for all of jpegplus (maintained implementations: scikit-image SSIM,
pytorch-msssim MS-SSIM)."""

from __future__ import annotations

import numpy as np
import torch
from pytorch_msssim import ms_ssim as _ms_ssim
from skimage.color import rgb2ycbcr
from skimage.metrics import structural_similarity


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image


PEAK = 255.0
LEAST_MSE = 1e-12  # identical images: a finite, very high PSNR instead of infinity


def psnr_from_mse(mse: float) -> float:
    """PSNR in dB of a mean squared error on the 0–255 scale."""
    return float(10 * np.log10(PEAK**2 / max(float(mse), LEAST_MSE)))


def psnr(reference: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB over all channels of two uint8 images (only where ``mask`` is true, if given)."""
    error = reference.astype(np.float64) - test.astype(np.float64)
    return psnr_from_mse(np.mean((error if mask is None else error[mask]) ** 2))


def tensor_psnr(output: torch.Tensor, reference: torch.Tensor) -> float:
    """PSNR in dB of [0, 1] tensors after clamping and rounding both to 8 bits, as a saved image would be."""
    rounded = (output.clamp(0, 1) * PEAK).round() - (reference * PEAK).round()
    return psnr_from_mse(torch.mean(rounded**2).item())


def y_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR of the BT.601 luma (Y in 16–235, as the deblocking literature measures it)."""
    if reference.ndim == 2 and test.ndim == 2:
        return psnr(reference, test)
    luma = [rgb2ycbcr(_rgb(image))[:, :, 0] for image in (reference, test)]
    return psnr_from_mse(np.mean((luma[0] - luma[1]) ** 2))


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """SSIM (scikit-image, Gaussian window as Wang et al.) averaged over channels."""
    channel_axis = None if reference.ndim == 2 else 2
    return float(
        structural_similarity(
            reference, test, data_range=255, channel_axis=channel_axis, gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False,
        )
    )  # fmt: skip


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """MS-SSIM (pytorch-msssim, 5 scales) of RGB images; NaN below its 161-pixel minimum side."""
    if min(reference.shape[:2]) < 161:
        return float("nan")
    tensors = [torch.from_numpy(_rgb(image).astype(np.float32)).permute(2, 0, 1)[None] for image in (reference, test)]
    return float(_ms_ssim(tensors[0], tensors[1], data_range=255.0))
