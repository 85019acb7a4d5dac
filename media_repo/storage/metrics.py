"""Prometheus series of the object storage provider, on Synapse's global registry.

Stored bytes come twice: logical (every file Synapse stored, counted per mapping) and physical
(what the object store holds, once per distinct content); their ratio is the dedup saving.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

LOGICAL_BYTES = Gauge(
    "hearth_media_storage_logical_bytes",
    "Bytes of every file Synapse stored through the provider (duplicates counted each time)",
    ["server_name"])
PHYSICAL_BYTES = Gauge(
    "hearth_media_storage_physical_bytes",
    "Bytes the object store holds (each distinct content once, encrypted size if encrypted)",
    ["server_name"])
MAPPINGS = Gauge(
    "hearth_media_storage_files",
    "Files of Synapse's media store mapped to a blob", ["server_name"])
BLOBS = Gauge(
    "hearth_media_storage_blobs",
    "Distinct contents (blobs) in the object store", ["server_name"])
STORED = Counter(
    "hearth_media_storage_stores_total",
    "Files stored, by outcome (uploaded: a new blob; deduplicated: the content was there)",
    ["server_name", "outcome"])
STORE_FAILURES = Counter(
    "hearth_media_storage_store_failures_total",
    "Files that could not be stored (the upload failed), by reason", ["server_name", "reason"])
FETCHES = Counter(
    "hearth_media_storage_fetches_total",
    "Files Synapse asked for from the object store, by outcome (found, unmapped, missing, "
    "failed)", ["server_name", "outcome"])
STORE_SECONDS = Histogram(
    "hearth_media_storage_store_seconds",
    "Time to hash, upload (unless deduplicated) and record one file", ["server_name"],
    buckets=LATENCY_BUCKETS)
FETCH_SECONDS = Histogram(
    "hearth_media_storage_fetch_seconds",
    "Time until a file's bytes start streaming from the object store", ["server_name"],
    buckets=LATENCY_BUCKETS)
RECONCILE_REMOVALS = Counter(
    "hearth_media_storage_reconcile_removals_total",
    "What the reconciler removed: mappings of deleted media, unreferenced blobs, objects with "
    "no blob row", ["server_name", "kind"])
RECONCILE_FREED = Counter(
    "hearth_media_storage_reconcile_freed_bytes_total",
    "Bytes the reconciler freed in the object store", ["server_name"])
RECONCILE_LAST_PASS = Gauge(
    "hearth_media_storage_reconcile_last_pass_timestamp_seconds",
    "When the last reconciler pass that completed had started (Unix time)", ["server_name"])
RECONCILE_FAILURES = Counter(
    "hearth_media_storage_reconcile_failures_total",
    "Reconciler passes that stopped on an error", ["server_name"])
CACHE_EVICTIONS = Counter(
    "hearth_media_storage_cache_evictions_total",
    "Files removed from the local media store (they stay in the object store)", ["server_name"])
CACHE_EVICTED_BYTES = Counter(
    "hearth_media_storage_cache_evicted_bytes_total",
    "Bytes removed from the local media store", ["server_name"])
CACHE_BYTES = Gauge(
    "hearth_media_storage_cache_bytes",
    "Bytes in the local media store after the last eviction pass", ["server_name"])
