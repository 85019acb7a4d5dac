"""Re-authentication (UIA) accepts only the requester's own identity; it is no password oracle."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from signedjson.key import encode_verify_key_base64, generate_signing_key, get_verify_key

from tests.harness.accounts import CLIENT_V3, Reply, call
from tests.harness.clients import ClientFactory, User
from tests.harness.logins import password_login, request, unique_address

WRONG = "not-the-password-1"
EMAIL_DOMAIN = "victims.example.org"


def master_key(user_id: str) -> dict[str, Any]:
    """A fresh cross-signing master key (unsigned: the first upload needs no signature)."""
    public = encode_verify_key_base64(get_verify_key(generate_signing_key("master")))
    return {"user_id": user_id, "usage": ["master"], "keys": {f"ed25519:{public}": public}}


def endpoints(attacker: User, device_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every client-server endpoint of Synapse 1.163 that asks for a password by UIA."""
    return [
        ("POST", f"{CLIENT_V3}/delete_devices", {"devices": [device_id]}),
        ("DELETE", f"{CLIENT_V3}/devices/{quote(device_id)}", {}),
        ("POST", f"{CLIENT_V3}/account/password", {"new_password": "Attacker-new-pass-42"}),
        ("POST", f"{CLIENT_V3}/account/deactivate", {}),
        ("POST", f"{CLIENT_V3}/account/3pid/add", {"client_secret": "secret-1", "sid": "sid-1"}),
        ("POST", f"{CLIENT_V3}/keys/device_signing/upload",
         {"master_key": master_key(attacker.user_id)}),
    ]


def identities(victim: User, email: str) -> dict[str, dict[str, Any]]:
    """Every way to name the victim in an m.login.password auth dict (password added later)."""
    upper = "@" + victim.localpart.upper() + ":" + victim.user_id.split(":", 1)[1]
    return {
        "full user ID": {"identifier": {"type": "m.id.user", "user": victim.user_id}},
        "localpart": {"identifier": {"type": "m.id.user", "user": victim.localpart}},
        "upper case": {"identifier": {"type": "m.id.user", "user": upper}},
        "e-mail 3pid": {"identifier": {"type": "m.id.thirdparty", "medium": "email",
                                       "address": email}},
        "legacy user": {"user": victim.localpart},
        "legacy 3pid": {"medium": "email", "address": email},
    }


async def attempt(clients: ClientFactory, attacker: User, method: str, path: str,
                  body: dict[str, Any], auth: dict[str, Any], address: str) -> Reply:
    """One UIA round trip: fetch a session, answer it with ``auth`` from ``address``."""
    token = attacker.client.api.token
    first = await request(clients.server, method, path, body, token=token,
                          forwarded_for=address)
    assert first.status == 401 and first.body.get("session"), (path, first)
    full = {**body, "auth": {"type": "m.login.password", **auth,
                             "session": first.body["session"]}}
    return await request(clients.server, method, path, full, token=token,
                         forwarded_for=address)


async def setup(clients: ClientFactory) -> tuple[User, User, str, str]:
    """A victim with an e-mail address, an attacker with a spare device and cross-signing."""
    server = clients.server
    admin = await clients.user("uiaadmin", admin=True)
    victim = await clients.user("uiavictim")
    email = f"{victim.localpart}@{EMAIL_DOMAIN}"
    bound = await call(server, "PUT", f"/_synapse/admin/v2/users/{quote(victim.user_id)}",
                       {"threepids": [{"medium": "email", "address": email}]},
                       token=admin.client.api.token)
    assert bound.status == 200, bound
    attacker = await clients.user("uiaattacker")
    spare = await password_login(server, attacker.user_id, attacker.password)
    assert spare.status == 200, spare
    keys = await call(server, "POST", f"{CLIENT_V3}/keys/device_signing/upload",
                      {"master_key": master_key(attacker.user_id)},
                      token=attacker.client.api.token)
    assert keys.status == 200, keys
    return victim, attacker, email, str(spare.body["device_id"])


async def test_uia_with_another_users_identity_is_refused_whatever_the_password(
        clients: ClientFactory) -> None:
    """Right and wrong passwords of another account get one answer, on every endpoint."""
    victim, attacker, email, device_id = await setup(clients)
    address = unique_address("198.18.1")
    for method, path, body in endpoints(attacker, device_id):
        for name, who in identities(victim, email).items():
            right = await attempt(clients, attacker, method, path, body,
                                  {**who, "password": victim.password}, address)
            wrong = await attempt(clients, attacker, method, path, body,
                                  {**who, "password": WRONG}, address)
            assert right.status not in (200, 202), (path, name, right)
            assert (right.status, right.errcode) == (wrong.status, wrong.errcode), \
                (path, name, right, wrong)
    # Nothing happened to the attacker's account either.
    assert (await password_login(clients.server, attacker.user_id, attacker.password)
            ).status == 200


async def test_uia_failures_count_and_lock_like_logins(clients: ClientFactory) -> None:
    """Five foreign-identity UIA attempts lock that address out of the victim's account."""
    victim, attacker, email, device_id = await setup(clients)
    address = unique_address("198.18.2")
    method, path, body = endpoints(attacker, device_id)[0]
    who = identities(victim, email)["full user ID"]
    for _ in range(5):
        await attempt(clients, attacker, method, path, body, {**who, "password": WRONG},
                      address)
    locked = await password_login(clients.server, victim.user_id, victim.password,
                                  forwarded_for=address)
    assert (locked.status, locked.errcode) == (403, "M_USER_LOCKED"), locked
    owner = await password_login(clients.server, victim.user_id, victim.password,
                                 forwarded_for=unique_address("198.18.3"))
    assert owner.status == 200, owner


async def test_uia_own_identity_locked_answers_alike(clients: ClientFactory) -> None:
    """Own wrong passwords count; once locked, right and wrong get one answer; elsewhere ok."""
    server = clients.server
    user = await clients.user("uiaself")
    spare = await password_login(server, user.user_id, user.password)
    device_id = str(spare.body["device_id"])
    address = unique_address("198.18.4")
    path, body = f"{CLIENT_V3}/delete_devices", {"devices": [device_id]}
    own = {"identifier": {"type": "m.id.user", "user": user.user_id}}
    for _ in range(5):
        failed = await attempt(clients, user, "POST", path, body, {**own, "password": WRONG},
                               address)
        assert failed.status == 401, failed
    right = await attempt(clients, user, "POST", path, body,
                          {**own, "password": user.password}, address)
    wrong = await attempt(clients, user, "POST", path, body, {**own, "password": WRONG},
                          address)
    assert right.status not in (200, 202), right
    assert (right.status, right.errcode) == (wrong.status, wrong.errcode), (right, wrong)
    elsewhere = await attempt(clients, user, "POST", path, body,
                              {**own, "password": user.password}, unique_address("198.18.5"))
    assert elsewhere.status == 200, elsewhere


async def test_uia_without_a_logged_in_requester_checks_no_password(
        clients: ClientFactory) -> None:
    """Registration and the e-mail password reset: a password stage answers alike."""
    victim = await clients.user("uianoreq")
    targets = [
        (f"{CLIENT_V3}/register", {"username": f"fresh{victim.localpart}",
                                   "password": "Fresh-password-42"}),
        (f"{CLIENT_V3}/account/password", {"new_password": "Taken-over-pass-42"}),
    ]
    for path, body in targets:
        answers = []
        for password in (victim.password, WRONG):
            first = await request(clients.server, "POST", path, body)
            assert first.status == 401 and first.body.get("session"), (path, first)
            auth = {"type": "m.login.password", "password": password,
                    "identifier": {"type": "m.id.user", "user": victim.user_id},
                    "session": first.body["session"]}
            reply = await request(clients.server, "POST", path, {**body, "auth": auth})
            answers.append((reply.status, reply.errcode, reply.body.get("completed")))
        assert answers[0] == answers[1], (path, answers)
        assert answers[0][0] == 401, (path, answers)
    assert (await password_login(clients.server, victim.user_id, victim.password,
                                 forwarded_for=unique_address("198.18.6"))).status == 200
