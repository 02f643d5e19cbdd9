"""Packaging beyond pyproject.toml: the top-level ``weights/`` folder ships inside the wheel as the
data-only package ``jpegplus.weights_data`` (found by :func:`jpegplus.weights.weights_dir`).

pyproject.toml's package discovery only finds folders under the package, so the mapping of a
folder beside it is declared here; the folder stays where the model cards and training expect it.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["jpegplus", "jpegplus.*"]), "jpegplus.weights_data"],
    package_dir={"jpegplus.weights_data": "weights"},
    package_data={"jpegplus": ["py.typed"], "jpegplus.weights_data": ["manifest.json", "*.safetensors", "*.md"]},
)
