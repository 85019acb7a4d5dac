"""images.make_thumbnail keeps animation for GIF/WebP output of animated sources, as Synapse
keeps it in its animated thumbnails; otherwise the first frame is used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from hearth.media_repo import images
from tests.unit.media_repo import fixtures_images as make


def apng(path: Path) -> Path:
    pictures = make.frames(3)
    pictures[0].save(path, "PNG", save_all=True, append_images=pictures[1:], duration=90,
                     loop=0)
    return path


def durations(image: Image.Image) -> list[int]:
    """Each frame's duration (WebP tells it only once the frame is decoded)."""
    out = []
    for frame in ImageSequence.Iterator(image):
        frame.load()
        out.append(frame.info["duration"])
    return out


SOURCES: dict[str, Callable[[Path], Path]] = {
    "gif": make.gif, "webp": lambda p: make.webp(p, count=4), "apng": apng,
}


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_animated_source_stays_animated(tmp_path: Path, source: str,
                                        fmt: images.ThumbnailFormat) -> None:
    """All frames, their durations and the loop count survive scaling."""
    src = SOURCES[source](tmp_path / source)
    with Image.open(src) as original:
        count = getattr(original, "n_frames", 1)
        timings = durations(original)
    dst = tmp_path / "thumb"
    info = images.make_thumbnail(src, dst, width=20, height=20, method="scale", fmt=fmt,
                                 animated=True)
    assert info.animated and (info.width, info.height) == (20, 15)
    with Image.open(dst) as thumb:
        assert getattr(thumb, "n_frames", 1) == count
        assert thumb.info.get("loop") == 0
        assert durations(thumb) == timings
        assert thumb.size == (20, 15)


def test_animated_frames_differ_after_crop(tmp_path: Path) -> None:
    """The moving bar still moves in a cropped animated thumbnail."""
    dst = tmp_path / "thumb.webp"
    images.make_thumbnail(make.gif(tmp_path / "a.gif"), dst, width=30, height=30,
                          method="crop", fmt="webp", animated=True)
    with Image.open(dst) as thumb:
        pictures = [f.convert("RGB").tobytes() for f in ImageSequence.Iterator(thumb)]
    assert len(set(pictures)) == len(pictures) == 4


@pytest.mark.parametrize("fmt", ["png", "jpeg", "avif"])
def test_formats_without_animation_get_the_first_frame(tmp_path: Path,
                                                       fmt: images.ThumbnailFormat) -> None:
    """PNG, JPEG and AVIF thumbnails are stills even when animation is asked for."""
    dst = tmp_path / "thumb"
    info = images.make_thumbnail(make.gif(tmp_path / "a.gif"), dst, width=20, height=20,
                                 method="scale", fmt=fmt, animated=True)
    assert not info.animated
    with Image.open(dst) as thumb:
        assert getattr(thumb, "n_frames", 1) == 1


def test_animation_not_asked_for_gives_a_still(tmp_path: Path) -> None:
    """animated=False makes a still of the first frame, even in WebP."""
    dst = tmp_path / "thumb.webp"
    info = images.make_thumbnail(make.webp(tmp_path / "a.webp", count=3), dst, width=20,
                                 height=20, method="scale", fmt="webp", animated=False)
    assert not info.animated
    with Image.open(dst) as thumb:
        assert getattr(thumb, "n_frames", 1) == 1


def test_gif_without_loop_count_loops_forever_as_synapse(tmp_path: Path) -> None:
    """A GIF that names no loop count gets loop 0 (forever), as Synapse's thumbnails do."""
    src = tmp_path / "once.gif"
    pictures = [f.convert("P") for f in make.frames(2)]
    pictures[0].save(src, "GIF", save_all=True, append_images=pictures[1:], duration=50)
    assert "loop" not in Image.open(src).info
    dst = tmp_path / "thumb.webp"
    images.make_thumbnail(src, dst, width=20, height=20, method="scale", fmt="webp",
                          animated=True)
    with Image.open(dst) as thumb:
        assert thumb.info["loop"] == 0 and getattr(thumb, "n_frames", 1) == 2
