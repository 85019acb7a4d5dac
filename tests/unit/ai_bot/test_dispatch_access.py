"""Access checks of the dispatcher: an unknown role is refused (fail closed) and a 🔁 is a
request of the reactor, checked and charged as theirs."""

from __future__ import annotations

from prometheus_client import REGISTRY

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot import strings
from hearth.ai_bot.budget.types import BudgetRefusal, Period, Reservation, SpendSummary
from hearth.ai_bot.permissions import AiAccess
from tests.unit.ai_bot.assembly import NO_AI, ask, bot_pieces, mention, static_policy
from tests.unit.ai_bot.fake_matrix import ALICE, BOB

BUDGETED = AiAccess(role="limited", use_ai=True, models=("*",), daily_usd=0.25,
                    monthly_usd=3.0)


class RecordingLedger:
    """A ledger that says yes and remembers whose limits each reservation was checked on."""

    def __init__(self) -> None:
        self.reserved: list[tuple[str, dict[Period, float | None]]] = []

    async def reserve(self, user_id: str, room_id: str, model: str, amount_usd: float,
                      user_limits: dict[Period, float | None],
                      room_limits: dict[Period, float | None],
                      bot_limits: dict[Period, float | None]) -> Reservation | BudgetRefusal:
        self.reserved.append((user_id, user_limits))
        return Reservation(f"r{len(self.reserved)}", user_id, room_id, model, amount_usd)

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        return None

    async def release(self, reservation: Reservation) -> None:
        return None

    async def summary(self, user_id: str, room_id: str) -> SpendSummary:
        return SpendSummary(0, 0, 0, 0, None, None)


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("hearth_ai_access_refusals_total", {"reason": reason}) or 0.0


async def test_dispatch_refuses_when_the_role_cannot_be_learnt(fake_openai: FakeOpenAI) -> None:
    """Prompt or command from a user whose role lookup fails: the notice, no model call."""
    before = refusals("role_unknown")
    async with bot_pieces(fake_openai, policy=static_policy(unknown={ALICE})) as bot:
        room = bot.matrix.room(ALICE, BOB)
        prompt = bot.matrix.post(ALICE, mention("hello"))
        await bot.dispatcher.on_text(room, prompt)
        command = bot.matrix.post(ALICE, {"msgtype": "m.text", "body": "!ai models"})
        await bot.dispatcher.on_text(room, command)
        assert [n.content["body"] for n in bot.matrix.notices()] == [strings.ROLE_UNKNOWN] * 2
        assert fake_openai.requests == []
    assert refusals("role_unknown") == before + 2


async def test_dispatch_regenerate_by_another_member_is_charged_to_them(
        fake_openai: FakeOpenAI) -> None:
    """Bob's 🔁 on Alice's answer is reserved against Bob's budget, with Bob's limits."""
    fake_openai.push(Reply(text="one"), Reply(text="two"))
    ledger = RecordingLedger()
    policy = static_policy({BOB: BUDGETED})
    async with bot_pieces(fake_openai, policy=policy, ledger=ledger) as bot:
        _, answer = await ask(bot, "a question")
        await bot.dispatcher.on_reaction(bot.matrix.room(ALICE, BOB),
                                         bot.matrix.reaction(BOB, answer.event_id))
        assert bot.matrix.shown(answer.event_id)["body"] == "two"
    assert ledger.reserved == [(ALICE, {"day": None, "month": None}),
                               (BOB, {"day": 0.25, "month": 3.0})]


async def test_dispatch_regenerate_by_a_member_without_ai_is_refused(
        fake_openai: FakeOpenAI) -> None:
    """A 🔁 from a role without the AI, or whose role is unknown, leaves the answer as it is
    and replies to it with the refusal; the model is not asked again."""
    fake_openai.push(Reply(text="kept"))
    carol = "@carol:localhost"
    policy = static_policy({BOB: NO_AI}, unknown={carol})
    async with bot_pieces(fake_openai, policy=policy) as bot:
        _, answer = await ask(bot, "a question")
        room = bot.matrix.room(ALICE, BOB, carol)
        for reactor in (BOB, carol):
            await bot.dispatcher.on_reaction(room, bot.matrix.reaction(reactor, answer.event_id))
        notices = bot.matrix.notices()
        assert [n.content["body"] for n in notices] == [strings.NOT_ALLOWED,
                                                        strings.ROLE_UNKNOWN]
        assert all(n.content["m.relates_to"] == {"m.in_reply_to": {"event_id": answer.event_id}}
                   for n in notices)
        assert bot.matrix.shown(answer.event_id)["body"] == "kept"
        assert len(fake_openai.requests) == 1
