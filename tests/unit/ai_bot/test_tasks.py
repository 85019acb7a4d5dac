"""Spawned tasks: tracked while running, failures logged, shutdown bounded by a timeout."""

from __future__ import annotations

import asyncio

import pytest

from hearth.ai_bot.tasks import Tasks, cancel_and_wait


async def test_tasks_failure_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    """A task that raises is reported in the log and leaves the running set."""
    tasks = Tasks()

    async def boom() -> None:
        raise RuntimeError("kaput")

    task = tasks.spawn(boom())
    with pytest.raises(RuntimeError):
        await task
    await asyncio.sleep(0)  # done callbacks run on the next loop iteration
    assert tasks.running == set()
    assert any(r.exc_info and "kaput" in str(r.exc_info[1]) for r in caplog.records)


async def test_tasks_cancel_and_wait_lets_cleanup_finish() -> None:
    """Cancelled tasks get to run their cleanup (e.g. a final edit) before shutdown goes on."""
    cleaned: list[str] = []
    started = asyncio.Event()

    async def answer() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)
            cleaned.append("final edit")

    tasks = Tasks()
    task = tasks.spawn(answer())
    await started.wait()
    await cancel_and_wait([task], timeout_s=10)
    assert cleaned == ["final edit"] and task.cancelled()


async def test_tasks_cancel_and_wait_gives_up_after_timeout() -> None:
    """A task that ignores cancellation does not hold shutdown past the timeout."""
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.get_running_loop().create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait([task], timeout_s=0.05)
    assert not task.done()
    release.set()
    await task
