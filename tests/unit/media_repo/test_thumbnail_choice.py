"""Which thumbnail a request gets: Synapse's sizes, and AVIF/WebP by the Accept header."""

from __future__ import annotations

import pytest

from hearth.media_repo.thumbnails import ThumbnailRequest, preferred_format


@pytest.mark.parametrize(("accept", "fmt"), [
    ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "avif"),
    ("image/webp,*/*", "webp"), ("IMAGE/WEBP;q=0.9", "webp"), ("image/png,*/*", None),
    ("", None), (None, None),
])
def test_preferred_format_from_accept(accept: str | None, fmt: str | None) -> None:
    """AVIF before WebP when listed; nothing else is ours to answer."""
    assert preferred_format(accept) == fmt


@pytest.mark.parametrize(("width", "height", "method", "size"), [
    ("300", "200", "scale", (320, 240)), ("700", "500", "scale", (800, 600)),
    ("2000", "2000", "scale", (800, 600)), ("10", "10", "crop", (32, 32)),
    ("50", "90", "crop", (96, 96)), ("500", "500", "crop", (96, 96)),
    ("x", None, None, (320, 240)), ("-4", "0", "scale", (320, 240)),
])
def test_request_answered_with_synapses_covering_size(
    width: str | None, height: str | None, method: str | None, size: tuple[int, int],
) -> None:
    """The smallest configured size of the method that covers the request, else the largest."""
    wanted = ThumbnailRequest.from_args(width, height, method, False, "webp")
    assert (wanted.width, wanted.height) == size
    assert wanted.method == ("crop" if method == "crop" else "scale")


def test_file_name_keys_every_choice() -> None:
    """Size, method, format and animation each change the cached file's name."""
    names = {ThumbnailRequest(w, h, m, a, f).file_name("ab" * 32)
             for w, h in ((32, 32), (96, 96)) for m in ("crop", "scale")
             for a in (False, True) for f in ("webp", "avif")}
    assert len(names) == 16
