"""The frame scheduler (nbstream._core.throttle)."""

from __future__ import annotations

from nbstream._core.throttle import Throttle


def test_first_frame_is_due_at_once_then_at_the_frame_rate() -> None:
    t = Throttle(fps=10)
    assert t.due(100.0)
    t.drew(100.0, cpu_seconds=0.0)
    assert not t.due(100.05)
    assert t.due(100.11)


def test_interval_stretches_when_drawing_is_slow_and_recovers() -> None:
    t = Throttle(fps=20, cpu_share=0.2, max_interval=1.0)
    t.drew(0.0, cpu_seconds=0.1)  # 100 ms of CPU per frame: at most one frame per 500 ms
    assert t.interval == 0.5
    assert not t.due(0.4)
    t.drew(1.0, cpu_seconds=5.0)
    assert t.interval == 1.0
    t.drew(2.0, cpu_seconds=0.001)
    assert t.interval == 0.05


def test_byte_budget_grows_with_the_answer() -> None:
    t = Throttle(budget_ratio=3.0, allowance=100, fade=10**9)  # a non-fading allowance
    assert t.affordable(100, content=0)
    t.charge(100)
    assert not t.affordable(31, content=10)
    assert t.affordable(29, content=10)
    assert not t.affordable(29, content=10, reserve=2)  # bytes owed later count too


def test_allowance_fades_so_long_answers_stay_within_the_ratio() -> None:
    t = Throttle()  # the defaults: 2.9 bytes per character, 10,000 bytes fading at 4,000 chars
    assert t.budget(0) == 10_000  # the first frames of any answer are affordable at once
    assert t.budget(4000) == 2.9 * 4000 + 5000
    # From a 5k-token answer (~38k characters) on, the whole budget is below 3 times it.
    for content in (38_000, 75_000, 150_000, 300_000):
        assert t.budget(content) < 2.93 * content
