"""Prometheus metrics of the AI bot, served by the bot process on its own port.

Defined once here (prometheus_client's global registry refuses duplicates); the model layer
and the ledger update them, the Matrix side only exposes the registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MODEL_REQUESTS = Counter(
    "hearth_ai_model_requests_total",
    "Model calls by model and outcome (ok, interrupted, error)",
    ["model", "outcome"],
)
MODEL_TOKENS = Counter(
    "hearth_ai_model_tokens_total",
    "Tokens by model and kind (prompt, completion); estimated counts included",
    ["model", "kind"],
)
MODEL_COST_USD = Counter(
    "hearth_ai_cost_usd_total",
    "Settled cost of model calls in US dollars, by model",
    ["model"],
)
TIME_TO_FIRST_TOKEN = Histogram(
    "hearth_ai_time_to_first_token_seconds",
    "From sending the request to the first text or tool-call delta",
    ["model"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
)
MODEL_ERRORS = Counter(
    "hearth_ai_model_errors_total",
    "Failed or interrupted model calls by model and kind (rate_limited, server_error, "
    "network, timeout, stalled, interrupted, auth, ...)",
    ["model", "kind"],
)
MODEL_RETRIES = Counter(
    "hearth_ai_model_retries_total",
    "Retried attempts by model and the kind of failure that caused them",
    ["model", "kind"],
)
BUDGET_REFUSALS = Counter(
    "hearth_ai_budget_refusals_total",
    "Calls refused because a budget would be exceeded, by scope and period",
    ["scope", "period"],
)
FALLBACK_CALLS = Counter(
    "hearth_ai_fallback_calls_total",
    "Calls sent to the fallback model instead of the primary",
    ["primary", "fallback"],
)
ROLE_LOOKUP_FAILURES = Counter(
    "hearth_ai_role_lookup_failures_total",
    "Role lookups at the access policy that failed, by kind (unreachable, timeout, "
    "unauthorized, forbidden, not_installed, server_error, malformed); the request is refused",
    ["kind"],
)
ACCESS_REFUSALS = Counter(
    "hearth_ai_access_refusals_total",
    "Prompts, commands, regenerations and invites refused by the access check, by reason "
    "(role_unknown, no_ai, no_model, rate_limited)",
    ["reason"],
)
CIRCUIT_OPEN = Gauge(
    "hearth_ai_circuit_open",
    "1 while the circuit breaker of a model is open (calls go to the fallback)",
    ["model"],
)
