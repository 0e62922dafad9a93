"""The pacer: scenario time on the wall clock, paused and resumed, a pause taken before the start kept."""

from __future__ import annotations

import threading
import time

from mwx.live.pacing import Pacer


def test_a_pause_before_the_start_holds_the_clock_at_the_start() -> None:
    pacer = Pacer(100.0)
    pacer.pause()  # a console opened before the run's clock started
    pacer.start(1_000.0)
    time.sleep(0.05)
    assert pacer.paused and pacer.now() == 1_000.0
    pacer.resume()
    time.sleep(0.05)
    assert 1_003.0 < pacer.now() < 1_050.0  # 100 scenario s per wall s from the start, not from 1970


def test_waiting_follows_the_speed_and_does_the_idle_work() -> None:
    ticks: list[float] = []
    pacer = Pacer(50.0, idle=ticks.append)
    pacer.start(0.0)
    began = time.monotonic()
    pacer.wait_until(5.0)  # 5 scenario s at 50x: 0.1 wall s
    waited = time.monotonic() - began
    assert 0.09 < waited < 0.5 and ticks and all(t <= 5.0 for t in ticks)
    pacer.pause()
    held = pacer.now()
    time.sleep(0.05)
    assert pacer.now() == held
    pacer.set_speed(1000.0)
    assert pacer.now() == held and pacer.paused


def test_a_held_clock_lets_a_run_behind_it_catch_up_then_holds_it() -> None:
    idle: list[float] = []
    pacer = Pacer(10.0, idle=idle.append)
    pacer.pause()
    pacer.start(0.0)
    pacer.jump_to(100.0)  # the facilitator's "next inject" while paused
    assert pacer.paused and pacer.now() == 100.0
    began = time.monotonic()
    pacer.wait_until(50.0)  # behind the held clock: at once
    pacer.wait_until(100.0)
    assert time.monotonic() - began < 0.05 and not idle
    pacer.jump_to(40.0)  # backwards: no jump
    assert pacer.now() == 100.0
    waiter = threading.Thread(target=pacer.wait_until, args=(101.0,))
    waiter.start()
    time.sleep(0.15)
    assert waiter.is_alive() and idle and all(t == 100.0 for t in idle)  # held: the idle work at the held time
    pacer.resume()
    waiter.join(2.0)
    assert not waiter.is_alive()
