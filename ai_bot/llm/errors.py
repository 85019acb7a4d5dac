"""What the user is told when a model call fails: one short, honest sentence per kind.

All user-facing strings of the model layer live here. ``classify`` turns an openai SDK
exception into a ``ModelError`` plus whether retrying could help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import openai

from hearth.ai_bot.llm.types import ModelError

# Kinds whose failures say the endpoint (not the request) is unwell: retried, and counted by
# the circuit breaker.
TRANSIENT_KINDS = frozenset({"rate_limited", "server_error", "network", "timeout", "stalled"})


def rate_limited(retry_after_s: float | None = None) -> ModelError:
    """The endpoint keeps answering 429."""
    when = (f"in about {max(1, round(retry_after_s))} seconds" if retry_after_s is not None
            else "in a minute")
    return ModelError("rate_limited",
                      f"The AI service is rate-limiting the bot right now; try again {when}.")


def quota() -> ModelError:
    """429 with insufficient_quota: waiting will not help."""
    return ModelError("quota", "The bot's AI account is out of credit or quota; "
                               "an admin needs to top it up.")


def server_error(status: int | None = None) -> ModelError:
    """5xx (or an error event in the stream) after our retries."""
    code = f" ({status})" if status else ""
    return ModelError("server_error",
                      f"The AI service failed{code} and did not answer; try again shortly.")


def network() -> ModelError:
    """Could not connect, or the connection dropped before any answer."""
    return ModelError("network", "The bot could not reach the AI service; try again shortly.")


def timeout(seconds: float) -> ModelError:
    """No first token within the first-token timeout."""
    return ModelError("timeout", f"The AI service did not start answering within "
                                 f"{seconds:g} seconds; try again.")


def stalled(seconds: float) -> ModelError:
    """The stream went silent before any text reached the user."""
    return ModelError("stalled", f"The AI service stopped responding (nothing for "
                                 f"{seconds:g} seconds) before it answered; try again.")


def auth() -> ModelError:
    """401/403: the key is wrong or lacks access."""
    return ModelError("auth", "The AI service refused the bot's credentials; "
                              "an admin needs to check the API key.")


def model_not_found(model: str) -> ModelError:
    """404: the endpoint does not serve this model."""
    return ModelError("model_not_found", f"The AI service does not offer the model '{model}'; "
                                         "an admin needs to check the configuration.")


def context_too_long() -> ModelError:
    """400 context_length_exceeded."""
    return ModelError("context_too_long", "The conversation is too long for the model; "
                                          "start a fresh context or ask something shorter.")


def bad_request(detail: str) -> ModelError:
    """Any other 4xx: the endpoint refused the request itself."""
    short = detail.strip().splitlines()[0][:160] if detail.strip() else "no reason given"
    return ModelError("bad_request", f"The AI service refused the request: {short}")


@dataclass(frozen=True)
class Failure:
    """A classified failure: the error to raise and whether another attempt may succeed."""

    error: ModelError
    retryable: bool
    retry_after_s: float | None = None


def classify(exc: openai.OpenAIError, model: str) -> Failure:
    """Map an SDK exception to what we tell the user and whether to retry."""
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = retry_after_seconds(exc.response.headers)
        if status == 429:
            if exc.code == "insufficient_quota":
                return Failure(quota(), retryable=False)
            return Failure(rate_limited(retry_after), True, retry_after)
        if status in (408, 409) or status >= 500:
            return Failure(server_error(status), True, retry_after)
        if status in (401, 403):
            return Failure(auth(), retryable=False)
        if status == 404:
            return Failure(model_not_found(model), retryable=False)
        if exc.code == "context_length_exceeded":
            return Failure(context_too_long(), retryable=False)
        return Failure(bad_request(exc.message), retryable=False)
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError (connect/read)
        return Failure(network(), retryable=True)
    if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
        return Failure(server_error(), retryable=True)
    return Failure(server_error(), retryable=False)


def retry_after_seconds(headers: object) -> float | None:
    """Retry-After as seconds: ``retry-after-ms``, or ``retry-after`` in seconds or as a date."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    millis = get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
