"""Prometheus metrics of the media pipeline (labelled with ``server_name``).

Synapse's metrics listener serves the global registry, so these appear on every process that
loads the module. Storage metrics (stored bytes, dedup, reconciler) are in media_repo/storage.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from hearth.media_repo.pipeline import Prepared

UPLOADS = Counter("hearth_media_uploads_total",
                  "Uploads the pipeline prepared for storage, by kind of content",
                  ["server_name", "kind"])
UPLOAD_BYTES = Counter("hearth_media_upload_bytes_total",
                       "Bytes of prepared uploads handed to Synapse's store", ["server_name"])
UPLOADS_REFUSED = Counter("hearth_media_uploads_refused_total",
                          "Uploads refused, by reason (type_not_allowed, malformed, too_large, "
                          "infected, scanner_unavailable, processing_limit, ...)",
                          ["server_name", "reason"])
METADATA_STRIPPED = Counter("hearth_media_metadata_stripped_total",
                            "Images whose EXIF/GPS/XMP metadata was removed", ["server_name"])
SCANS = Counter("hearth_media_scans_total",
                "Malware scans, by result (clean, infected, unavailable, skipped)",
                ["server_name", "result"])
PROCESSING_SECONDS = Histogram(
    "hearth_media_processing_seconds",
    "Time from the received body to the prepared file, by kind of content",
    ["server_name", "kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DOWNLOADS = Counter("hearth_media_downloads_total",
                    "Downloads and thumbnails answered by the download front, by how "
                    "(redirect, range, thumbnail_webp, thumbnail_avif, poster, synapse)",
                    ["server_name", "how"])
DOWNLOAD_BYTES = Counter("hearth_media_download_bytes_total",
                         "Bytes the download front streamed itself (ranges, thumbnails)",
                         ["server_name"])


def observe_prepared(server_name: str, prepared: Prepared, seconds: float) -> None:
    """Count one prepared upload."""
    UPLOADS.labels(server_name, prepared.info.kind).inc()
    UPLOAD_BYTES.labels(server_name).inc(prepared.info.size)
    PROCESSING_SECONDS.labels(server_name, prepared.info.kind).observe(seconds)
    SCANS.labels(server_name, "clean" if prepared.scanned else "skipped").inc()
    if prepared.stripped:
        METADATA_STRIPPED.labels(server_name).inc()
