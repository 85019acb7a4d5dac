"""The bot's configuration: a frozen, typed model read once from a YAML file and the environment.

Sources, later ones winning: the YAML file given with ``--config``, then environment variables
``HEARTH_AI__SECTION__KEY=value`` (e.g. ``HEARTH_AI__MODEL__DEFAULT=gpt-4o-mini``).
The model API key is best kept out of the file: ``model.endpoint.api_key_path`` or
``OPENAI_API_KEY``. An invalid value is refused in
one line naming its path, e.g. ``Error in configuration at 'streaming.min_edit_interval_s'``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from hearth.ai_bot.llm.config import ModelSettings
from hearth.configuration.errors import ConfigError, SettingsError
from hearth.configuration.loader import deep_merge, from_environment, read_yaml_mapping
from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import Localpart

ENV_PREFIX = "HEARTH_AI__"


class StreamingConfig(FrozenConfig):
    """The edit scheduler: one per bot account, shared by every live answer."""

    # No answer is edited more often than this.
    min_edit_interval_s: float = Field(default=0.8, ge=0.05, le=30)
    # Edits per second for the whole account (first events and final edits jump the queue).
    max_edits_per_second: float = Field(default=8.0, gt=0, le=100)
    # A message body longer than this (UTF-8 bytes) continues in a follow-up message. An edit
    # carries the text twice plus HTML twice, and encryption adds a third: stay far below 64 KiB.
    # An event that would still be too large (HTML-escaping can triple formatted_body) sheds
    # the edit fallback's copy, then its HTML, never text (streaming/content.py).
    max_body_bytes: int = Field(default=12_000, ge=200, le=30_000)
    max_concurrent_sends: int = Field(default=4, ge=1, le=32)
    # How long a final edit is retried through outages before it is given up.
    final_retry_deadline_s: float = Field(default=900.0, gt=0)
    # m.text reads like a person's message in every client; m.notice marks bot output.
    msgtype: Literal["m.text", "m.notice"] = "m.text"


class ContextConfig(FrozenConfig):
    """What the model sees of the room or thread."""

    # Longest answer asked of the model (capped by the model's own output limit).
    max_output_tokens: int = Field(default=1024, ge=16, le=128_000)

    max_history_events: int = Field(default=200, ge=1, le=2000)
    # Ask the model for a short summary of turns that no longer fit the window.
    summarize_older: bool = False
    # Tokens kept free besides the answer (tool specs, formatting overhead).
    token_margin: int = Field(default=512, ge=0)
    # Messages older than this when the bot sees them (e.g. after downtime) get no answer.
    max_event_age_s: int = Field(default=600, ge=1)


class ToolsConfig(FrozenConfig):
    """Function calling."""

    enabled: bool = True
    max_steps: int = Field(default=5, ge=1, le=20)
    # How many recent events ``search_room_history`` reads.
    search_scan_events: int = Field(default=500, ge=10, le=5000)


REMOVED_ACCESS_KEYS = ("default_role", "assignments", "roles", "budgets_usd")


class AccessConfig(FrozenConfig):
    """Spend limits of the deployment as a whole: per room and for the bot account.

    Who may use the AI, with which models, budgets and request rate, is the access policy's
    alone (``config/policy.yaml`` and the role assignments; principle 2): the bot keeps no
    rules of its own and asks the policy for every request (``permissions.py``)."""

    room_daily_usd: float | None = Field(default=None, ge=0)
    room_monthly_usd: float | None = Field(default=None, ge=0)
    bot_daily_usd: float | None = Field(default=None, ge=0)
    bot_monthly_usd: float | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _no_rules_of_its_own(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            for key in REMOVED_ACCESS_KEYS:
                if key in raw:
                    raise ValueError(
                        f"access.{key} is no longer read: roles, their AI permissions and "
                        "dollar budgets come from the access policy (config/policy.yaml, "
                        "permissions.ai); remove it")
        return raw


class BotConfig(FrozenConfig):
    """Everything the bot process needs."""

    homeserver_url: str = "http://127.0.0.1:8008"
    localpart: Localpart = "ai"
    displayname: str = "AI assistant"
    set_avatar: bool = True
    # The bot's own credentials (0600, written by `hearth run`), crypto store and state. The
    # bot holds no admin credential and no registration secret (hearth/bot_account.py).
    data_dir: Path = Path("data/ai_bot")
    # The ledger's database: sqlite:///path or postgresql://...; empty: <data_dir>/ledger.db.
    ledger_url: str = ""
    # Prometheus metrics of the bot on 127.0.0.1:<port>; 0 turns them off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Encrypted rooms, cross-signing of the bot's own device.
    encryption: bool = True
    # The model layer's settings (endpoint, fallback, catalogue): see ai_bot/llm/config.py.
    model: ModelSettings = ModelSettings()
    streaming: StreamingConfig = StreamingConfig()
    context: ContextConfig = ContextConfig()
    tools: ToolsConfig = ToolsConfig()
    access: AccessConfig = AccessConfig()

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "crypto"

    def api_key(self, environ: Mapping[str, str] | None = None) -> str:
        """The model API key (config, key file, else ``OPENAI_API_KEY``), or ''."""
        endpoint = self.model.endpoint
        if endpoint.api_key_path is not None and not endpoint.api_key_path.is_file():
            return ""
        configured = endpoint.resolved_api_key()
        if configured:
            return configured
        env = os.environ if environ is None else environ
        return env.get("OPENAI_API_KEY", "").strip()


def with_environment(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None
                     ) -> dict[str, Any]:
    """``raw`` with the ``HEARTH_AI__`` variables merged over it, as the bot will read it."""
    env = os.environ if environ is None else environ
    return deep_merge(raw, from_environment(env, ENV_PREFIX))


def parse_config(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> BotConfig:
    """Validate a mapping (plus environment overrides) into a ``BotConfig``."""
    try:
        merged = with_environment(raw, environ)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    return parse_module_config(BotConfig, merged, "")


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> BotConfig:
    """Read ``path`` (YAML mapping; None for defaults) and the environment."""
    try:
        raw = {} if path is None else read_yaml_mapping(path)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    return parse_config(raw, environ)
