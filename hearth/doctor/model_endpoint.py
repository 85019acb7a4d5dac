"""The AI bot's model endpoint: it answers GET /models with the configured key, and lists
the model the bot is configured to use."""

from __future__ import annotations

import httpx

from hearth.doctor.findings import Finding, ok, problem, warning
from hearth.model_endpoint import model_api_key, model_base_url
from hearth.settings import AiBotSettings

CHECK = "model endpoint"


def check_model_endpoint(settings: AiBotSettings, timeout_s: float = 10.0) -> Finding:
    """Skipped when the bot is off or has no key (then it does not start)."""
    if not settings.enabled:
        return ok(CHECK, "the AI bot is disabled (ai_bot.enabled=false)")
    key = model_api_key(settings)
    if not key:
        where = settings.api_key_file or "OPENAI_API_KEY"
        return ok(CHECK, f"the AI bot is off: no model API key ({where} is empty or missing)")
    base = model_base_url(settings)
    try:
        response = httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {key}"},
                             timeout=timeout_s)
    except httpx.HTTPError as exc:
        return problem(CHECK, f"the model endpoint {base} does not answer "
                              f"({type(exc).__name__}: {exc})",
                       "start the model server, or set ai_bot.base_url (or OPENAI_BASE_URL)")
    if response.status_code in (401, 403):
        return problem(CHECK, f"{base} refused the API key ({response.status_code})",
                       "put a valid key in ai_bot.api_key_file (or OPENAI_API_KEY)")
    if response.status_code != 200:
        return problem(CHECK, f"{base}/models answered {response.status_code}",
                       "check ai_bot.base_url: it should end with the API root, e.g. /v1")
    try:
        listed = {str(m.get("id")) for m in response.json().get("data", [])}
    except (ValueError, AttributeError):
        return problem(CHECK, f"{base}/models did not answer a model list",
                       "check ai_bot.base_url points at an OpenAI-compatible API")
    if settings.default_model not in listed:
        known = ", ".join(sorted(listed)[:8]) or "none"
        return warning(CHECK, f"{base} does not list the model {settings.default_model} "
                              f"(it lists {known})",
                       "set ai_bot.default_model to one of the listed models")
    return ok(CHECK, f"{base} answers with the key and lists {settings.default_model}")
