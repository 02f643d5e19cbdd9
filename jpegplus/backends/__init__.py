"""Runtime backends: an inference form of a network in PyTorch (TorchScript) or OpenVINO.

Chosen by :func:`jpegplus.runtime.runnable`; each module imports its runtime only when used.
"""
