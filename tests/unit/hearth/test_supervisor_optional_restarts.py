"""Supervisor: an optional process that keeps failing is retried forever, never the others' end."""

from __future__ import annotations

from pathlib import Path

from hearth.supervisor import MAX_RESTARTS, ProcessSpec
from tests.unit.hearth.supervised import SLEEPER, FakeClock, optional_crasher, supervisor_with


def test_optional_crasher_restarted_past_the_limit_with_doubling_delays(tmp_path: Path) -> None:
    """Delays double from 1 s to the cap, past MAX_RESTARTS, while the essential one runs on."""
    clock = FakeClock()
    sup = supervisor_with(clock)
    sup.start(ProcessSpec("synapse", SLEEPER, tmp_path / "synapse.out"))
    sup.start(optional_crasher(tmp_path))  # dies during start: scheduled, not raised
    synapse, bot = sup.running
    delays = []
    for _ in range(MAX_RESTARTS + 5):
        assert bot.state == "restarting"
        assert bot.next_restart_at is not None
        delay = bot.next_restart_at - clock.seconds
        delays.append(delay)
        clock.advance(delay - 0.01)
        sup.watch_once()
        assert bot.state == "restarting"  # not a moment early
        clock.advance(0.01)
        sup.watch_once()
        bot.process.wait()
        sup.watch_once()
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert bot.restarts == MAX_RESTARTS + 5
    assert bot.last_exit_code == 3
    assert synapse.state == "running"
    sup.stop_all()


def test_back_off_resets_after_a_good_run(tmp_path: Path) -> None:
    """A process that stayed up a minute before failing again waits 1 s, not the next step."""
    clock = FakeClock()
    sup = supervisor_with(clock)
    sup.start(optional_crasher(tmp_path))
    (bot,) = sup.running
    for _ in range(3):
        assert bot.next_restart_at is not None
        clock.seconds = bot.next_restart_at
        sup.watch_once()
        bot.process.wait()
        clock.advance(1 if bot.restarts < 3 else 61)  # the third run "lasts" a minute
        sup.watch_once()
    assert bot.next_restart_at is not None
    assert bot.next_restart_at - clock.seconds == 1
    sup.stop_all()


def test_optional_start_timeout_leaves_the_others_running(tmp_path: Path) -> None:
    """An optional process that never answers its health URL is stopped and retried later."""
    clock = FakeClock()
    sup = supervisor_with(clock)
    sup.start(ProcessSpec("synapse", SLEEPER, tmp_path / "synapse.out"))
    sup.start(ProcessSpec("media", SLEEPER, tmp_path / "media.out", optional=True,
                          health_url="http://127.0.0.1:9/health", ready_timeout_s=1.0))
    synapse, media = sup.running
    assert synapse.state == "running"
    assert media.state == "restarting"
    assert media.process.poll() is not None
    sup.stop_all()
