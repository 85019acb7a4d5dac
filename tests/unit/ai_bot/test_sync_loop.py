"""The sync loop: hooks after each sync, back-off on refusals, stops when told."""

from __future__ import annotations

import asyncio

from hearth.ai_bot.sync_loop import SyncLoop
from tests.unit.ai_bot.fake_matrix import FakeMatrix


class Recorder:
    """After-sync hook and back-off pause that record, and stop the loop after ``syncs``."""

    def __init__(self, matrix: FakeMatrix, stopping: asyncio.Event, syncs: int) -> None:
        self.matrix, self.stopping, self.syncs = matrix, stopping, syncs
        self.hooks: list[int] = []
        self.pauses: list[float] = []

    async def hook(self) -> None:
        self.hooks.append(len(self.matrix.syncs))
        if len(self.matrix.syncs) >= self.syncs:
            self.stopping.set()

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


async def test_sync_loop_first_sync_full_then_long_polls_with_hooks() -> None:
    """The first sync is the initial one, later ones long-poll; hooks run after each."""
    matrix, stopping = FakeMatrix(), asyncio.Event()
    recorder = Recorder(matrix, stopping, syncs=3)
    await SyncLoop(matrix, [recorder.hook], stopping, pause=recorder.pause).run()
    assert matrix.syncs == [True, False, False]
    assert recorder.hooks == [1, 2, 3] and recorder.pauses == []


async def test_sync_loop_backs_off_while_refused_and_recovers() -> None:
    """Refused syncs pause 1, 2, 4 s (capped), skip the hooks, and retry the initial sync;
    a success resets the delay."""
    matrix, stopping = FakeMatrix(), asyncio.Event()
    for _ in range(4):
        matrix.refuse_next_sync()
    recorder = Recorder(matrix, stopping, syncs=7)

    async def refuse_once_more() -> None:
        if recorder.hooks == [5]:
            matrix.refuse_next_sync()

    hooks = [recorder.hook, refuse_once_more]
    await SyncLoop(matrix, hooks, stopping, max_delay_s=5, pause=recorder.pause).run()
    assert matrix.syncs == [True, True, True, True, True, False, False]
    assert recorder.pauses == [1, 2, 4, 5, 1]
    assert recorder.hooks == [5, 7]


async def test_sync_loop_stop_ends_a_back_off_pause() -> None:
    """Stopping during a long back-off ends the loop at once."""
    matrix, stopping = FakeMatrix(), asyncio.Event()
    matrix.refuse_next_sync()
    loop = SyncLoop(matrix, [], stopping, first_delay_s=3600)
    run = asyncio.get_running_loop().create_task(loop.run())
    while not matrix.syncs:
        await asyncio.sleep(0)
    stopping.set()
    await asyncio.wait_for(run, timeout=10)
    assert matrix.syncs == [True]
