"""The child process that decodes one image: ``python -m hearth.media_repo.image_worker``.

It reads one JSON request on standard input, runs :mod:`hearth.media_repo.images` on it and
prints one JSON result. A refusal (the image is bad) is a normal answer, printed as
``{"refused": reason, "message": ...}`` with exit status 0; anything else (a bug, running out
of memory) exits non-zero with a traceback on standard error, which the sandbox reports.
It is started under the sandbox's limits by :mod:`hearth.media_repo.image_processing`.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hearth.media_repo.images import ImageRefused, clean_image, make_thumbnail


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """The answer to one request (``op`` is ``clean`` or ``thumbnail``)."""
    src, dst = Path(request["src"]), Path(request["dst"])
    try:
        if request["op"] == "clean":
            return asdict(clean_image(src, dst, max_pixels=int(request["max_pixels"]),
                                      max_decoded_bytes=int(request["max_decoded_bytes"])))
        if request["op"] == "thumbnail":
            return asdict(make_thumbnail(
                src, dst, width=int(request["width"]), height=int(request["height"]),
                method=request["method"], fmt=request["fmt"],
                animated=bool(request["animated"])))
    except ImageRefused as e:
        return {"refused": e.reason, "message": e.message}
    raise ValueError(f"unknown op {request['op']!r}")


def main() -> int:
    warnings.simplefilter("ignore", UserWarning)  # Pillow on damaged EXIF; stderr is for failures
    request = json.loads(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(handle(request)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
