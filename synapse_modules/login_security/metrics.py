"""Prometheus series of the login security module, on Synapse's global registry."""

from __future__ import annotations

from prometheus_client import Counter

FAILED_LOGINS = Counter(
    "hearth_login_failures_total",
    "Failed password checks (login, re-authentication, the MFA page), by reason "
    "(wrong_password, unknown_user, wrong_code, malformed)",
    ["server_name", "reason"],
)
LOCKOUTS = Counter(
    "hearth_login_lockouts_total",
    "Locks started by too many failed logins, by scope (account_address: one account "
    "from one address; account: over every address; address: over every account)",
    ["server_name", "scope"],
)
REFUSED_LOGINS = Counter(
    "hearth_login_refusals_total",
    "Logins and re-authentications refused by the module, by reason (account_locked, "
    "address_blocked, address_rule, wrong_password, mfa_code_required, mfa_invalid_code, "
    "mfa_not_enrolled, mfa_enrolment_required, malformed, check_failed, check_disagrees, "
    "note_missing, verdict_missing, uia_other_identity, uia_account_locked, "
    "uia_address_blocked, uia_check_failed)",
    ["server_name", "reason"],
)
MFA_ENROLMENTS = Counter(
    "hearth_mfa_enrolments_total",
    "TOTP enrolments confirmed, by where (api, page)",
    ["server_name", "via"],
)
MFA_FAILURES = Counter(
    "hearth_mfa_failures_total",
    "One-time codes refused, by where (login, enrolment)",
    ["server_name", "stage"],
)
MFA_LOGINS = Counter(
    "hearth_mfa_logins_total",
    "Logins that passed the second factor, by method (totp, recovery)",
    ["server_name", "method"],
)
MFA_RESETS = Counter(
    "hearth_mfa_resets_total",
    "Second factors removed by an administrator",
    ["server_name"],
)
MALFORMED_INPUT = Counter(
    "hearth_login_malformed_input_total",
    "Requests to the MFA API and the enrolment page refused for malformed input, by "
    "endpoint (api, page) and reason (code, password, user_name, user_id, address, "
    "csrf_token, ticket, session_cookie, origin, form_encoding)",
    ["server_name", "endpoint", "reason"],
)
