"""The policy model: the shipped file, inheritance, rules, and errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hearth.configuration.errors import ConfigError
from hearth.render import PROJECT_DIR
from hearth.synapse_modules.access_policy import PolicyError, load_policy, parse_policy
from hearth.synapse_modules.access_policy.config import AccessPolicyConfig

PROJECT = PROJECT_DIR
SHIPPED = PROJECT / "config" / "policy.yaml"
TEST_POLICY = PROJECT / "tests" / "harness" / "policy.yaml"


def minimal(**roles: Any) -> dict[str, Any]:
    return {"version": 1, "default_role": "member",
            "roles": {"member": {"permissions": {"create_rooms": True}}, **roles}}


def test_shipped_policy_has_the_five_roles_and_member_allows_what_synapse_allows() -> None:
    """config/policy.yaml loads; member (the default) grants what plain Synapse allows.

    Plain Synapse lets nobody publish to the room directory by default; moderators may."""
    policy = load_policy(SHIPPED)
    assert {"admin", "moderator", "member", "guest", "bot"} <= set(policy.role_names)
    assert policy.default_role == "member"
    assert policy.guest_role == "guest"
    perms = policy.default.permissions
    assert all([perms.create_rooms, perms.create_public_rooms, perms.invite,
                perms.join_public_rooms, perms.join_remote_rooms])
    assert not perms.publish_to_directory
    assert policy.role("moderator").permissions.publish_to_directory
    assert perms.may_send_state_event("m.room.power_levels")
    assert perms.media.upload and perms.media.max_upload_size is None
    assert perms.media.quota is None
    limits = policy.default.rate_limits
    assert limits.messages is not None and limits.messages.burst >= 100


def test_shipped_policy_guest_and_bot_are_narrower_admin_broader() -> None:
    """Guests and bots lose permissions and limits; admins get any model and no AI budget."""
    policy = load_policy(SHIPPED)
    guest, bot, admin = policy.role("guest"), policy.role("bot"), policy.role("admin")
    assert not guest.permissions.create_rooms and not guest.permissions.invite
    assert not guest.permissions.media.upload and not guest.permissions.ai.enabled
    assert not bot.permissions.create_public_rooms and not bot.permissions.join_public_rooms
    assert bot.permissions.media.max_upload_size == 20 * 1024 * 1024
    assert admin.permissions.ai.may_use_model("anything-at-all")
    assert admin.permissions.ai.daily_token_budget is None
    assert admin.rate_limits.invites is None  # unlimited by the policy; Synapse's floor remains
    member_ai = policy.role("member").permissions.ai
    assert member_ai.may_use_model("gpt-4o-mini") and not member_ai.may_use_model("gpt-4.1")


def test_test_harness_policy_is_valid() -> None:
    """The test servers' policy loads and keeps member free of per-role limits."""
    policy = load_policy(TEST_POLICY)
    assert policy.default.rate_limits.as_dict() == dict.fromkeys(
        ("messages", "joins", "invites", "media_uploads", "ai_requests"))


def test_extends_deep_merges_and_keeps_own_description() -> None:
    """A role that extends another inherits what it does not override, key by key."""
    policy = parse_policy(minimal(
        staff={"extends": "member", "description": "staff",
               "permissions": {"invite": True, "media": {"upload": True}},
               "rate_limits": {"messages": {"per_second": 1, "burst": 2}}},
        lead={"extends": "staff", "permissions": {"media": {"quota": "1G"}}},
    ))
    lead = policy.role("lead")
    assert lead.permissions.create_rooms and lead.permissions.invite
    assert lead.permissions.media.upload and lead.permissions.media.quota == 1024**3
    assert lead.rate_limits.messages is not None and lead.rate_limits.messages.burst == 2
    assert lead.description == ""
    assert policy.role("staff").description == "staff"


def test_unmentioned_permissions_are_refused_and_limits_unlimited() -> None:
    """Deny by default for permissions; no per-role limit when a limiter is not listed."""
    role = parse_policy(minimal(quiet={})).role("quiet")
    assert role.permissions.as_dict()["invite"] is False
    assert role.permissions.send_state_events == ()
    assert role.rate_limits.get("messages") is None


def test_registration_rules_pick_by_email_domain_then_sso_attribute() -> None:
    """First matching rule wins; subdomains match; no match gives the default role."""
    policy = parse_policy({
        **minimal(staff={}, ops={}),
        "registration_rules": [
            {"role": "staff", "email_domains": ["Example.org"]},
            {"role": "ops", "sso_attribute": "groups", "sso_values": ["ops"]},
        ],
    })
    assert policy.role_for_registration(email="ann@example.org").name == "staff"
    assert policy.role_for_registration(email="ann@eu.example.org").name == "staff"
    assert policy.role_for_registration(email="ann@notexample.org").name == "member"
    assert policy.role_for_registration(sso_attributes={"groups": ["dev", "ops"]}).name == "ops"
    assert policy.role_for_registration(sso_attributes={"groups": "ops"}).name == "ops"
    assert policy.role_for_registration().name == "member"


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p["roles"]["member"].update(rate_limits={"messages": {"per_second": -1,
                                                                     "burst": 3}}),
     "Error in policy at 'roles.member.rate_limits.messages.per_second': got -1, expected a "
     "positive number"),
    (lambda p: p["roles"]["member"].update(rate_limits={"joins": {"per_second": 1}}),
     "Error in policy at 'roles.member.rate_limits.joins.burst': missing, expected a positive "
     "number"),
    (lambda p: p["roles"]["member"].update(rate_limits={"typing": "unlimited"}),
     "Error in policy at 'roles.member.rate_limits.typing': unknown key, expected one of "
     "messages, joins, invites, media_uploads, ai_requests"),
    (lambda p: p["roles"]["member"]["permissions"].update(creat_rooms=True),
     "Error in policy at 'roles.member.permissions.creat_rooms': unknown key"),
    (lambda p: p["roles"]["member"]["permissions"].update(invite="yes"),
     "Error in policy at 'roles.member.permissions.invite': got 'yes', expected true or false"),
    (lambda p: p["roles"]["member"]["permissions"].update(media={"max_upload_size": "10 MiB"}),
     "Error in policy at 'roles.member.permissions.media.max_upload_size': got '10 MiB', "
     "expected a positive size such as 512K, 50M or 2G"),
    (lambda p: p["roles"]["member"]["permissions"].update(ai={"models": "gpt-4o"}),
     "Error in policy at 'roles.member.permissions.ai.models': got 'gpt-4o', expected a list"),
    (lambda p: p.update(default_role="memb"),
     "Error in policy at 'default_role': got 'memb', expected one of member"),
    (lambda p: p.pop("default_role"),
     "Error in policy at 'default_role': missing, expected one of member"),
    (lambda p: p["roles"]["member"].update(extends="member"),
     "Error in policy at 'roles.member.extends': got 'member', expected a role that does not "
     "extend this one (a cycle)"),
    (lambda p: p["roles"]["member"].update(extends="nobody"),
     "Error in policy at 'roles.member.extends': got 'nobody', expected one of member"),
    (lambda p: p.update(registration_rules=[{"role": "member"}]),
     "Error in policy at 'registration_rules[0]': nothing to match"),
    (lambda p: p.update(registration_rules=[{"role": "boss", "email_domains": ["x.org"]}]),
     "Error in policy at 'registration_rules[0].role': got 'boss', expected one of member"),
    (lambda p: p["roles"].update({"Bad Name": {}}),
     "Error in policy at 'roles.Bad Name': got 'Bad Name', expected a role name"),
    (lambda p: p.update(version=2), "Error in policy at 'version': got 2, expected 1"),
    (lambda p: p.update(rolez={}), "Error in policy at 'rolez': unknown key"),
])
def test_invalid_policy_names_the_key_the_value_and_what_is_expected(change: Any,
                                                                    message: str) -> None:
    """Each mistake is reported with its path, the value found and what was expected."""
    raw = minimal()
    change(raw)
    with pytest.raises(PolicyError) as caught:
        parse_policy(raw)
    assert str(caught.value).startswith(message), str(caught.value)


def test_load_policy_reports_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    """A missing file and broken YAML are policy errors too, not tracebacks."""
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("roles: [unclosed\n")
    with pytest.raises(PolicyError, match="invalid YAML"):
        load_policy(broken)


def test_module_config_loads_the_policy_and_checks_its_own_keys(tmp_path: Path) -> None:
    """The module config names the policy file; its errors say which file and key."""
    config = AccessPolicyConfig.parse({"server_name": "localhost", "policy_file": str(SHIPPED),
                                       "max_upload_size": "50M",
                                       "redis": {"host": "127.0.0.1", "port": 6379}})
    assert config.server_max_upload_size == 50 * 1024**2
    assert config.redis is not None and config.redis.dbid == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(minimal(x={"permissions": {"invite": 1}})))
    with pytest.raises(ConfigError, match=r"roles\.x\.permissions\.invite': got 1.*bad\.yaml"):
        AccessPolicyConfig.parse({"server_name": "localhost", "policy_file": str(bad)})
    with pytest.raises(ConfigError, match="poll_interval_ms': got 5000"):
        AccessPolicyConfig.parse({"server_name": "localhost", "policy_file": str(SHIPPED),
                                  "poll_interval_ms": 5000})
    with pytest.raises(ConfigError, match=r"redis\.port"):
        AccessPolicyConfig.parse({"server_name": "localhost", "policy_file": str(SHIPPED),
                                  "redis": {"host": "r", "port": "x"}})
