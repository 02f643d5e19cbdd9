from __future__ import annotations

from pathlib import Path

import pytest
import torch

from jpegplus.backends.graphcache import cache_dir, cached_entry, weights_digest


def _write(content: str) -> object:
    calls = []

    def build(staging: Path) -> None:
        calls.append(staging)
        (staging / "graph.txt").write_text(content)

    build.calls = calls  # type: ignore[attr-defined]
    return build


def test_entry_is_built_once(tmp_path: Path) -> None:
    build = _write("one")
    folder = tmp_path / "cache" / "key"
    assert cached_entry(folder, build) == folder and cached_entry(folder, build) == folder
    assert len(build.calls) == 1 and (folder / "graph.txt").read_text() == "one"
    assert [p.name for p in folder.parent.iterdir()] == ["key"]  # no staging folder left


def test_losing_a_race_keeps_the_winners_entry(tmp_path: Path) -> None:
    folder = tmp_path / "key"

    def build(staging: Path) -> None:
        (staging / "graph.txt").write_text("mine")
        folder.mkdir()  # another process publishes first
        (folder / "graph.txt").write_text("theirs")

    assert cached_entry(folder, build) == folder
    assert (folder / "graph.txt").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    def build(staging: Path) -> None:
        (staging / "half").write_text("x")
        msg = "conversion failed"
        raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="conversion failed"):
        cached_entry(tmp_path / "key", build)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_cache_builds_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cached_entry(blocker / "key", _write("x")) is None


def test_cache_dir_honours_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JPEGPLUS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "jpegplus"
    monkeypatch.setenv("JPEGPLUS_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_digest_changes_with_the_weights_only() -> None:
    net = torch.nn.Conv2d(3, 4, 3)
    same = torch.nn.Conv2d(3, 4, 3)
    same.load_state_dict(net.state_dict())
    assert weights_digest(net) == weights_digest(same)
    with torch.no_grad():
        same.bias[0] += 1e-3
    assert weights_digest(net) != weights_digest(same)
