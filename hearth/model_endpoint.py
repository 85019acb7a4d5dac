"""Where the AI bot's model endpoint is and which key it uses, as the settings say.

Shared by ``hearth run`` (the bot starts only when a key is configured) and ``hearth doctor``
(which asks the endpoint for its models with that key), so both read the same sources in the
same order as the bot: ``ai_bot.*`` settings, then ``OPENAI_*`` environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hearth.settings import AiBotSettings

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def model_api_key(settings: AiBotSettings, environ: Mapping[str, str] | None = None) -> str:
    """The key from ``ai_bot.api_key_file`` (when set), else ``OPENAI_API_KEY``; '' if none."""
    if settings.api_key_file:
        path = Path(settings.api_key_file)
        return path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    return (os.environ if environ is None else environ).get("OPENAI_API_KEY", "").strip()


def model_base_url(settings: AiBotSettings, environ: Mapping[str, str] | None = None) -> str:
    """``ai_bot.base_url``, else ``OPENAI_BASE_URL``, else OpenAI's."""
    env = os.environ if environ is None else environ
    return (settings.base_url or env.get("OPENAI_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/")
