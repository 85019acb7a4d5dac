"""Cross-signing of the bot's own device (matrix-nio has none, so it is done here).

What it does: the bot makes its three cross-signing keys (master, self-signing, user-signing),
Ed25519 key pairs held by vodozemac (as ``vodozemac.Account`` objects, whose Ed25519 half is an
ordinary signing key) and kept pickled in ``<data_dir>/cross_signing.json`` (0600). It uploads
them with ``/keys/device_signing/upload`` (answering user-interactive auth with its password),
signs its device keys with the self-signing key and its master key with its device key via
``/keys/signatures/upload``. Clients that require "verified by its owner" devices then see the
bot's device as cross-signed by the bot.

What it does not do: nobody else's identity is verified by the bot (no user-signing of others,
no SAS/QR verification flows), there is no secret storage (SSSS) or key backup; people who
want their client to show the bot as *verified by them* verify the bot's user once in their
client, as with any user.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vodozemac

from hearth.ai_bot.matrix.client import V3, MatrixClient
from hearth.ai_bot.matrix.errors import MatrixError

logger = logging.getLogger(__name__)

USAGES = ("master", "self_signing", "user_signing")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")


def signable(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}


@dataclass
class SigningKey:
    """An Ed25519 key pair (the Ed25519 half of a vodozemac Account)."""

    account: vodozemac.Account

    @property
    def public(self) -> str:
        return str(self.account.ed25519_key.to_base64())

    def sign(self, obj: dict[str, Any]) -> str:
        return str(self.account.sign(canonical_json(signable(obj))).to_base64())


def verify(public_key: str, obj: dict[str, Any], signature: str) -> bool:
    """Whether ``signature`` over ``obj`` (canonical JSON, no signatures) is ``public_key``'s."""
    try:
        vodozemac.Ed25519PublicKey.from_base64(public_key).verify_signature(
            canonical_json(signable(obj)), vodozemac.Ed25519Signature.from_base64(signature))
    except (vodozemac.SignatureException, vodozemac.KeyException, ValueError):
        return False
    return True


class KeyStore:
    """The three cross-signing keys, created once, pickled 0600 in the data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys = self._load() or self._create()

    def _load(self) -> dict[str, SigningKey] | None:
        if not self.path.is_file():
            return None
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        pickle_key = bytes.fromhex(raw["pickle_key"])
        return {usage: SigningKey(vodozemac.Account.from_pickle(raw[usage], pickle_key))
                for usage in USAGES}

    def _create(self) -> dict[str, SigningKey]:
        keys = {usage: SigningKey(vodozemac.Account()) for usage in USAGES}
        pickle_key = secrets.token_bytes(32)
        payload = {"pickle_key": pickle_key.hex(),
                   **{usage: key.account.pickle(pickle_key) for usage, key in keys.items()}}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        return keys

    def public_key_object(self, user_id: str, usage: str) -> dict[str, Any]:
        """The key as uploaded; self-signing and user-signing keys are signed by the master."""
        key = self.keys[usage]
        obj: dict[str, Any] = {"user_id": user_id, "usage": [usage],
                               "keys": {f"ed25519:{key.public}": key.public}}
        if usage != "master":
            master = self.keys["master"]
            obj["signatures"] = {user_id: {f"ed25519:{master.public}": master.sign(obj)}}
        return obj


async def _query_own(client: MatrixClient) -> dict[str, Any]:
    found: dict[str, Any] = await client.request(
        "POST", f"{V3}/keys/query", {"device_keys": {client.user_id: []}})
    return found


async def _upload_keys(client: MatrixClient, store: KeyStore, password: str) -> None:
    user_id = client.user_id
    body: dict[str, Any] = {f"{usage}_key": store.public_key_object(user_id, usage)
                            for usage in USAGES}
    path = f"{V3}/keys/device_signing/upload"
    try:
        await client.request("POST", path, body)
        return
    except MatrixError as exc:
        if exc.status != 401:
            raise
    challenge = await _uia_session(client, path, body)
    body["auth"] = {"type": "m.login.password", "session": challenge,
                    "identifier": {"type": "m.id.user", "user": user_id}, "password": password}
    await client.request("POST", path, body)


async def _uia_session(client: MatrixClient, path: str, body: dict[str, Any]) -> str:
    """The UIA session of a 401 answer (MatrixError drops the body, so ask again raw)."""
    headers = {"Authorization": f"Bearer {client.nio.access_token}",
               "Content-Type": "application/json"}
    response = await client.nio.send("POST", path, json.dumps(body), headers)
    try:
        payload = await response.json(content_type=None)
    finally:
        response.release()
    return str(payload.get("session", ""))


async def cross_sign_own_device(client: MatrixClient, data_dir: Path, password: str) -> str:
    """Make sure the bot's device is signed by its self-signing key; returns the master key.

    Idempotent: keys already on the server and signatures already present are left alone.
    """
    store = KeyStore(data_dir / "cross_signing.json")
    user_id, device_id = client.user_id, str(client.nio.device_id)
    master = store.keys["master"].public
    ssk = store.keys["self_signing"]
    found = await _query_own(client)
    server_master = (found.get("master_keys", {}).get(user_id, {}) or {}).get("keys", {})
    if f"ed25519:{master}" not in server_master:
        logger.info("uploading the bot's cross-signing keys (master %s)", master)
        await _upload_keys(client, store, password)
        found = await _query_own(client)
    device = found.get("device_keys", {}).get(user_id, {}).get(device_id)
    if device is None:
        raise RuntimeError("the bot's device keys are not on the server yet")
    signatures: dict[str, Any] = {}
    have = device.get("signatures", {}).get(user_id, {})
    if f"ed25519:{ssk.public}" not in have:
        signed = signable(device)
        signed["signatures"] = {user_id: {f"ed25519:{ssk.public}": ssk.sign(device)}}
        signatures[device_id] = signed
    master_obj = found.get("master_keys", {}).get(user_id, {})
    if f"ed25519:{device_id}" not in master_obj.get("signatures", {}).get(user_id, {}):
        olm = client.nio.olm
        if olm is not None:
            mine = signable(master_obj)
            mine["signatures"] = {user_id: {
                f"ed25519:{device_id}": olm.account.sign(canonical_json(mine).decode())}}
            signatures[master] = mine
    if signatures:
        result = await client.request("POST", f"{V3}/keys/signatures/upload",
                                      {user_id: signatures})
        if result.get("failures"):
            logger.warning("some signatures were refused: %s", result["failures"])
        else:
            logger.info("cross-signed device %s", device_id)
    return master
