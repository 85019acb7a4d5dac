"""When the bot cannot learn the asker's role it refuses, says so, and never calls the model
(fail closed): every way the role lookup can fail, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot import strings
from tests.harness.ai_bot import AI_ACCESS, RunningBot, ask, dm_ready
from tests.harness.clients import ClientFactory
from tests.harness.fault_proxy import Fault, FaultProxy
from tests.harness.roles import metric_value
from tests.harness.server import Homeserver
from tests.integration.ai_bot.conftest import start_bot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def proxied_bot(homeserver: Homeserver, fake_model: FakeOpenAI,
                tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[RunningBot, FaultProxy]]:
    """A bot of this file's own that reaches the homeserver through a fault proxy."""
    proxy = FaultProxy(homeserver.base_url)
    proxy.start()
    with ExitStack() as stack:
        stack.callback(proxy.stop)
        yield start_bot(stack, homeserver, fake_model,
                        tmp_path_factory.mktemp(f"proxied-{homeserver.engine}"),
                        localpart="aiproxied",
                        homeserver_url=proxy.base_url), proxy


@pytest.mark.parametrize("fault", ["server_error", "unauthorized", "not_json", "dropped"])
async def test_ai_bot_refuses_when_role_lookup_fails(
    clients: ClientFactory, proxied_bot: tuple[RunningBot, FaultProxy],
    fake_model: FakeOpenAI, fault: Fault,
) -> None:
    """A 5xx, a rejected credential, a non-JSON answer or a dropped connection from the
    access policy: the asker gets the "cannot check your role" notice and no model call."""
    bot, proxy = proxied_bot
    proxy.heal()
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, bot.user_id, fake_model, Reply(text="answered"))
    _, healthy = await ask(alice, watcher, room_id, bot.user_id, "first question")
    assert [healthy.text(m) for m in healthy.messages] == ["answered"]
    fake_model.reset()
    before = metric_value(bot.metrics_url, "hearth_ai_access_refusals_total",
                          reason="role_unknown")
    proxy.break_path(AI_ACCESS, fault)
    _, refused = await ask(alice, watcher, room_id, bot.user_id, "second question")
    (message,) = refused.messages
    assert refused.shown[message]["msgtype"] == "m.notice"
    assert refused.text(message) == strings.ROLE_UNKNOWN
    assert fake_model.requests == []
    assert metric_value(bot.metrics_url, "hearth_ai_access_refusals_total",
                        reason="role_unknown") == before + 1
    proxy.heal()
    fake_model.push(Reply(text="back"))
    _, again = await ask(alice, watcher, room_id, bot.user_id, "third question")
    assert [again.text(m) for m in again.messages] == ["back"]
