"""Secrets that must survive re-rendering: generated once, stored 0600, never logged."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from signedjson.key import generate_signing_key, write_signing_keys

from hearth.private_files import write_private
from hearth.settings import SecretSettings

# mfa_encryption_key: login_security derives the keys that seal TOTP secrets from it.
SECRET_NAMES = ("macaroon_secret_key", "registration_shared_secret", "form_secret",
                "mfa_encryption_key", "media_url_key")


@dataclass(frozen=True)
class SecretPaths:
    """Files Synapse reads its secrets from."""

    signing_key: Path
    macaroon_secret_key: Path
    registration_shared_secret: Path
    form_secret: Path
    mfa_encryption_key: Path
    media_url_key: Path  # signs the media edge's download URLs (nginx secure_link)

    def read(self, name: str) -> str:
        """The secret's value, for the few places that need it inline."""
        path: Path = getattr(self, name)
        return path.read_text(encoding="utf-8").strip()


def _given(path_setting: str, env_name: str, target: Path) -> Path | None:
    """A secret supplied by the operator: a file path setting or an environment variable."""
    if path_setting:
        given = Path(path_setting)
        if not given.is_file():
            raise FileNotFoundError(f"secret file {given} does not exist")
        return given
    value = os.environ.get(env_name)
    if value:
        write_private(target, value.strip() + "\n")
        return target
    return None


def ensure_secrets(data_dir: Path, settings: SecretSettings) -> SecretPaths:
    """Return the secret files, generating any that are neither supplied nor already there."""
    secret_dir = data_dir / "secrets"
    secret_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(secret_dir, 0o700)

    signing = _given(settings.signing_key_file, "HEARTH_SIGNING_KEY", secret_dir / "signing.key")
    if signing is None:
        signing = secret_dir / "signing.key"
        if not signing.is_file():
            key = generate_signing_key("a_" + secrets.token_hex(2))
            fd = os.open(signing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                write_signing_keys(handle, [key])

    found: dict[str, Path] = {}
    for name in SECRET_NAMES:
        target = secret_dir / name
        supplied = _given(getattr(settings, f"{name}_file"), f"HEARTH_{name.upper()}", target)
        if supplied is None:
            if not target.is_file():
                write_private(target, secrets.token_urlsafe(48) + "\n")
            supplied = target
        found[name] = supplied
    return SecretPaths(signing_key=signing, **found)
