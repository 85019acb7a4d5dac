"""The Synapse internals this project relies on: what each is, where it lives, why we need it.

An entry per internal, each with a contract test named after it (``test_<name>_...`` in the
unit or integration contract tests; a unit test checks every entry has one). Before moving
``SUPPORTED_SERIES`` to a new Synapse release, read the listed files of that release.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Internal:
    """One thing we use that Synapse does not promise to keep."""

    name: str
    source: str  # the file of Synapse 1.163 it comes from
    what: str
    why: str
    used_by: tuple[str, ...]  # files of ours, relative to the project directory


INTERNALS: tuple[Internal, ...] = (
    Internal(
        "direct_serve_json_resource", "synapse/http/server.py",
        "DirectServeJsonResource: dispatches to async _async_render_<METHOD>(request), "
        "sends the returned (status, JSON) and turns a SynapseError into a Matrix error.",
        "Our JSON APIs answer like Synapse's own endpoints without re-implementing rendering.",
        ("synapse_modules/access_policy/admin_api.py",
         "synapse_modules/login_security/api.py",
         "synapse_modules/api_docs/module.py"),
    ),
    Internal(
        "direct_serve_html_resource", "synapse/http/server.py",
        "DirectServeHtmlResource: the same dispatch for HTML pages (respond_with_html).",
        "The TOTP enrolment page.",
        ("synapse_modules/login_security/page.py",),
    ),
    Internal(
        "synapse_request", "synapse/http/site.py",
        "SynapseRequest: get_request_id(), request_id_header, path, method, args, content, "
        "client, requestHeaders, notifyFinish().",
        "Reading the client address and keying per-request notes by Synapse's request ID.",
        ("synapse_modules/login_security/gate.py",
         "synapse_modules/login_security/api.py",
         "synapse_modules/login_security/page.py",
         "synapse_modules/access_policy/admin_api.py", "synapse_modules/api_docs/module.py"),
    ),
    Internal(
        "resource_tree_takeover", "synapse/util/httpresourcetree.py",
        "A resource registered at /_matrix takes over the children Synapse put under its "
        "UnrecognizedRequestResource placeholder there; routing passes through its "
        "getChildWithDefault (Twisted's Resource tree walk).",
        "The client-address gate sees every POST /_matrix/client/*/login before Synapse; "
        "auth providers and the login spam check are not given the request.",
        ("synapse_modules/login_security/gate.py",),
    ),
    Internal(
        "logging_context_request", "synapse/logging/context.py",
        "current_context().request: the ContextRequest of the request being handled, whose "
        "request_id is the SynapseRequest's.",
        "Linking the password check and the login spam check of the same /login.",
        ("synapse_modules/login_security/module.py",),
    ),
    Internal(
        "logging_context_requester", "synapse/http/site.py",
        "SynapseRequest.requester's setter copies the access token's user ID into "
        "logcontext.request.requester (a str) when Auth.get_user_by_req succeeds.",
        "UIA's password check accepts only the requester's own identity.",
        ("synapse_modules/login_security/module.py",),
    ),
    Internal(
        "login_servlet_patterns", "synapse/rest/client/login.py",
        "LoginRestServlet.PATTERNS: the compiled regular expressions (client_patterns with "
        "v1=True) JsonResource matches request.path against, for every client version.",
        "The gate guards exactly the paths Synapse routes to /login (api/v1, r0, v3, "
        "unstable).",
        ("synapse_modules/login_security/gate.py",),
    ),
    Internal(
        "make_deferred_yieldable", "synapse/logging/context.py",
        "Waits on a Twisted Deferred without losing Synapse's logging context.",
        "The Redis rate-limit buckets (txredisapi returns Deferreds).",
        ("synapse_modules/access_policy/module.py",),
    ),
    Internal(
        "password_hash", "synapse/handlers/auth.py",
        "AuthHandler.hash/validate_hash: bcrypt over NFKC(password) + pepper, cut to 72 "
        "bytes, stored in users.password_hash.",
        "Checking a password (and password + appended code) in the auth checker, the JSON API "
        "and the enrolment page, so every check counts towards the lockout.",
        ("synapse_modules/login_security/credentials.py",),
    ),
    Internal(
        "users_table", "synapse/storage/databases/main/registration.py",
        "users(name, password_hash, is_guest, deactivated); login looks names up "
        "case-insensitively (get_users_by_id_case_insensitive).",
        "Finding the canonical user and hash at login; counting users per role.",
        ("synapse_modules/login_security/store.py", "synapse_modules/access_policy/store.py"),
    ),
    Internal(
        "local_media_repository_table", "synapse/storage/databases/main/media_repository.py",
        "local_media_repository(user_id, media_length, url_cache).",
        "A role's media quota counts the bytes a user has stored.",
        ("synapse_modules/access_policy/store.py",),
    ),
    Internal(
        "user_ips_table", "synapse/storage/databases/main/client_ips.py",
        "user_ips(user_id, last_seen): client activity, written as requests arrive.",
        "Active-user gauges (1, 7 and 30 days).",
        ("synapse_modules/business_metrics/module.py",),
    ),
    Internal(
        "events_table", "synapse/storage/schema/main/full_schemas/72/full.sql.postgres",
        "events(stream_ordering, type, state_key, sender, event_id) joined to "
        "event_json(event_id, json): every persisted event, in stream order.",
        "Counting messages and rooms once, from the background process, without Synapse's "
        "on_new_event callback (which breaks the sending request's logging context).",
        ("synapse_modules/business_metrics/module.py",),
    ),
    Internal(
        "ratelimit_override", "synapse/storage/databases/main/room.py",
        "ModuleApi._store.get_ratelimit_for_user(user_id): the ratelimit_override row "
        "(messages_per_second, burst_count) or None; @cached, and set_/delete_ratelimit_for_user "
        "invalidate it on every process through _invalidate_cache_and_stream.",
        "Synapse's per-user override (admin API override_ratelimit) wins over the per-role "
        "limits, with no per-process copy of ours to go stale on a worker.",
        ("synapse_modules/access_policy/module.py", "hearth/synapse_compat/ratelimit_override.py"),
    ),
    Internal(
        "multipart_refusal", "synapse/http/site.py",
        "SynapseRequest.requestReceived refuses a POST with Content-Type multipart/form-data "
        "before routing (an empty 415, then the connection closed); _respond_with_error(e) "
        "sends a SynapseError as JSON and closes the connection.",
        "A multipart POST is answered with a Matrix error (errcode + error), never an empty "
        "answer or a dropped connection; no module hook runs before routing.",
        ("synapse_modules/login_security/module.py",
         "hearth/synapse_compat/multipart_refusal.py"),
    ),
    Internal(
        "front_door_interceptors", "synapse/util/httpresourcetree.py",
        "The resource at /_matrix (resource_tree_takeover) is our FrontDoor; getChildWithDefault "
        "gets Synapse's child and each module's interceptor may hand back another leaf.",
        "Login security and the media pipeline both see requests before Synapse's servlets, "
        "though only one resource can hold /_matrix.",
        ("hearth/synapse_compat/front_door.py", "synapse_modules/login_security/module.py",
         "media_repo/module.py"),
    ),
    Internal(
        "request_processing_once", "synapse/http/site.py",
        "SynapseRequest.processing() may be entered once (RuntimeError 'Request is already "
        "processing' otherwise); servlets enter it in _AsyncResource's wrapper; the requester "
        "setter asserts _requester is None (set once per request); "
        "respond_with_json(request, code, obj, send_cors) sends JSON; run_in_background and "
        "PreserveLoggingContext(request.logcontext) keep the request's logging context.",
        "Uploads are read and rewritten before Synapse's servlet renders the same request, "
        "so that work must run outside processing() and hand the request on afterwards.",
        ("hearth/synapse_compat/deferred_render.py", "media_repo/upload_front.py",
         "media_repo/download_front.py"),
    ),
    Internal(
        "media_file_headers", "synapse/media/_base.py",
        "add_file_headers(request, media_type, file_size, upload_name): Content-Type (charset "
        "for text), Content-Disposition inline only for INLINE_CONTENT_TYPES (never SVG), "
        "RFC 5987 names, cache headers; ThreadedFileSender(hs).beginFileTransfer(file, "
        "consumer) streams from the media thread pool.",
        "Ranges, posters and AVIF/WebP thumbnails go out with exactly Synapse's headers, "
        "streamed without blocking the reactor.",
        ("hearth/synapse_compat/media_serving.py", "media_repo/download_front.py"),
    ),
    Internal(
        "media_local_copy", "synapse/media/media_storage.py",
        "hs.get_media_repository().media_storage.ensure_media_is_in_local_cache(FileInfo(None, "
        "media_id)): an async context manager giving a local path, fetched from the storage "
        "providers when the local store lacks the file; MediaFilePaths(root)"
        ".local_media_filepath(media_id) is root/local_content/ab/cd/rest.",
        "Ranges and our thumbnails read the file wherever it is stored (object storage "
        "included).",
        ("hearth/synapse_compat/media_serving.py", "media_repo/download_front.py",
         "media_repo/module.py"),
    ),
    Internal(
        "room_media_ids", "synapse/storage/databases/main/room.py",
        "RoomStore.get_media_mxcs_in_room(room_id) -> (local mxc URIs, remote mxc URIs): the "
        "media a room's events refer to (Synapse's quarantine-room admin API uses it).",
        "Media usage per room in our admin API.",
        ("hearth/synapse_compat/media_serving.py", "media_repo/info_api.py"),
    ),
    Internal(
        "local_media_rows", "synapse/storage/schema/main/delta/91/01_media_hash.sql",
        "local_media_repository(media_id, media_type, media_length (NULL until an async "
        "upload arrives), upload_name, user_id, quarantined_by, sha256, created_ts, "
        "url_cache).",
        "Redirects, ranges and media info decide on the same row Synapse serves from "
        "(quarantined media never leaves); info is keyed by the stored bytes' SHA-256.",
        ("hearth/synapse_compat/media_tables.py", "media_repo/download_front.py",
         "media_repo/info_api.py"),
    ),
    Internal(
        "homeserver_module_api", "synapse/server.py",
        "HomeServer.get_module_api(): a new ModuleApi over the homeserver (run_db_interaction, "
        "defer_to_thread, sleep, looping_background_call, delayed_background_call).",
        "A media storage provider is built by Synapse's media repository with the HomeServer, "
        "not a ModuleApi; through this it uses only the module API from then on.",
        ("hearth/synapse_compat/media_storage.py", "media_repo/storage/provider.py"),
    ),
    Internal(
        "media_background_jobs_instance", "synapse/config/repository.py",
        "media_instance_running_background_jobs (None: every process serving media) compared "
        "with HomeServer.get_instance_name(): Synapse's rule for which media process runs the "
        "media background jobs (synapse/media/url_previewer.py).",
        "The storage schema migration and the reconciler run on exactly one process that has "
        "the provider; the background-tasks process may not serve media at all.",
        ("hearth/synapse_compat/media_storage.py", "media_repo/storage/provider.py"),
    ),
    Internal(
        "storage_provider_interface", "synapse/media/storage_provider.py",
        "A provider class: static parse_config(dict) (every process), __init__(hs, parsed), "
        "async store_file(path, FileInfo), async fetch(path, FileInfo) -> Responder | None. "
        "StorageProviderWrapper skips url_cache files and awaits store_file when "
        "store_synchronous; MediaStorage.store_into_file (media_storage.py) removes the local "
        "file and re-raises when a provider raises, before any media row is written. "
        "FileInfo (media/_base.py): server_name, file_id, url_cache, thumbnail(width, height, "
        "method, type).",
        "Synapse's files reach object storage; a failed store fails the upload and leaves no "
        "media ID pointing at nothing.",
        ("hearth/synapse_compat/media_storage.py", "media_repo/storage/provider.py"),
    ),
    Internal(
        "file_responder", "synapse/media/media_storage.py",
        "FileResponder(hs, open_file): a Responder streaming any object with read(n)/close() "
        "through ThreadedFileSender (media sender thread pool, back-pressure); closes it on "
        "__exit__.",
        "fetch() streams blobs (decrypted on the fly) from object storage without reading "
        "them into memory.",
        ("hearth/synapse_compat/media_storage.py", "media_repo/storage/provider.py"),
    ),
    Internal(
        "synapse_media_tables", "synapse/storage/schema/main/full_schemas/72/full.sql.sqlite",
        "local_media_repository(media_id), local_media_repository_thumbnails(media_id, "
        "thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method), "
        "remote_media_cache(media_origin, filesystem_id), remote_media_cache_thumbnails("
        "media_origin, filesystem_id, thumbnail_*): deleting, purging and retention drop "
        "these rows (quarantine keeps them).",
        "The reconciler forgets the mappings of media Synapse deleted, so the object store "
        "follows Synapse's deletes.",
        ("hearth/synapse_compat/media_storage_tables.py", "media_repo/storage/reconciler.py"),
    ),
    Internal(
        "media_file_paths_rel", "synapse/media/filepath.py",
        "MediaFilePaths.local_media_filepath_rel(media_id) = local_content/ab/cd/<rest>: the "
        "path a storage provider is given for a local original.",
        "A redirect for a media ID finds its file's mapping.",
        ("hearth/synapse_compat/media_storage.py", "media_repo/storage/offload.py"),
    ),
    Internal(
        "presign_file_headers", "synapse/media/_base.py",
        "add_file_headers(request, media_type, size, upload_name) only calls "
        "request.setHeader(name, value): Content-Type (charset for text), Content-Disposition "
        "(inline for safe types, RFC 5987 names), Cache-Control.",
        "A presigned URL asks S3 to answer with exactly the headers Synapse's own download "
        "would send.",
        ("hearth/synapse_compat/media_storage.py", "media_repo/storage/offload.py"),
    ),
)
