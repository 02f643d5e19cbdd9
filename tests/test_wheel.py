"""The built wheel works on its own: installed into a fresh venv, it decompresses with the weights it carries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import jpegplus

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("jpegplus", "weights", "pyproject.toml", "setup.py", "README.md")  # what the build reads


def _run(*command: str | Path, cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "JPEGPLUS_WEIGHTS")}
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.wheel
def test_installed_wheel_decompresses_with_its_own_weights(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so the build's egg-info and build/ stay out of the checkout
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    build = ("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", source)
    _run(sys.executable, *build, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("jpegplus-*.whl"))
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel, cwd=tmp_path)
    work = tmp_path / "work"  # no jpegplus source here or on the path
    work.mkdir()
    photo = (np.random.default_rng(0).random((40, 56, 3)) * 255).astype(np.uint8)
    packed = jpegplus.compress(photo, quality=50, mode="downsample")
    (work / "photo.jpg").write_bytes(packed)
    where = _run(python, "-c", "import jpegplus.weights as w; print(w.__file__); print(w.weights_dir())", cwd=work)
    module, folder = (Path(line) for line in where.split())
    assert module.is_relative_to(venv) and folder.is_relative_to(venv) and (folder / "manifest.json").is_file()
    _run(venv / "bin" / "jpegplus", "decompress", "photo.jpg", "-o", "restored.png", cwd=work)
    restored = np.asarray(Image.open(work / "restored.png"))
    assert np.abs(restored.astype(int) - jpegplus.decompress(packed)).max() <= 1  # what this checkout restores
