"""The homeserver: its local listener answers /health and the client versions request."""

from __future__ import annotations

import httpx

from hearth.doctor.findings import Finding, ok, problem
from hearth.settings import ServerSettings

CHECK = "homeserver"


def local_base_url(settings: ServerSettings) -> str:
    """The client listener as seen from this machine."""
    host = settings.bind_address
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - comparison only
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


def check_homeserver(settings: ServerSettings, timeout_s: float = 5.0) -> Finding:
    """GET /health, then /_matrix/client/versions."""
    base = local_base_url(settings)
    try:
        with httpx.Client(base_url=base, timeout=timeout_s) as client:
            health = client.get("/health")
            if health.status_code != 200:
                return problem(CHECK, f"{base}/health answered {health.status_code}",
                               "read data/logs/homeserver.log and data/logs/synapse.out")
            versions = client.get("/_matrix/client/versions")
    except httpx.HTTPError as exc:
        return problem(CHECK, f"the homeserver does not answer at {base} "
                              f"({type(exc).__name__})",
                       "start it with `hearth run` (or `make run`); if it runs, check "
                       "server.port and server.bind_address")
    if versions.status_code != 200 or "versions" not in _json(versions):
        return problem(CHECK, f"{base}/_matrix/client/versions answered "
                              f"{versions.status_code}, not a versions list",
                       "another program may own the port: check server.port")
    latest = _json(versions)["versions"][-1]
    return ok(CHECK, f"{base} is up (client API up to {latest})")


def _json(response: httpx.Response) -> dict[str, list[str]]:
    try:
        loaded = response.json()
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
