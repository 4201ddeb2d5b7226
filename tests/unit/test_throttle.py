"""The frame scheduler (nbstream._core.throttle): frames by interval, cost bounded by rate."""

from __future__ import annotations

import itertools

import pytest

from nbstream._core.throttle import Bucket, Pacer, Throttle


def test_first_frame_is_due_at_once_then_one_per_interval() -> None:
    t = Throttle(fps=5)
    assert t.due(100.0)
    t.drew(100.0, cpu_seconds=0.0)
    assert not t.due(100.1)
    assert t.next_at(100.1) == pytest.approx(100.2)
    assert t.due(100.2)


def test_interval_stretches_when_drawing_is_slow_and_recovers() -> None:
    t = Throttle(fps=20, cpu_share=0.2, max_interval=1.0)
    t.drew(0.0, cpu_seconds=0.1)  # 100 ms of CPU per frame: at most one frame per 500 ms
    assert t.interval == 0.5
    assert not t.due(0.4)
    t.drew(1.0, cpu_seconds=5.0)
    assert t.interval == 1.0
    t.drew(2.0, cpu_seconds=0.001)
    assert t.interval == 0.05


def test_a_bucket_allows_a_burst_then_the_rate() -> None:
    b = Bucket(100.0)  # 100 units/s, one second's worth of burst
    b.take(100, now=0.0)
    assert b.wait(0.0) == 0.0
    b.take(50, now=0.0)
    assert b.wait(0.0) == pytest.approx(0.5)  # 50 in debt at 100/s
    assert b.wait(0.5) == 0.0
    assert b.wait(10.0) == 0.0
    assert b.level == 100  # refilled to capacity, never beyond


def test_bytes_sent_beyond_the_rate_delay_the_next_frame() -> None:
    t = Throttle(fps=10, byte_rate=10_000)
    t.charge(30_000, 1, now=0.0)  # 20 kB over the one-second burst: 2 s of debt
    t.drew(0.0, cpu_seconds=0.0)
    assert t.next_at(0.0) == pytest.approx(2.0)
    assert not t.due(1.9)
    assert t.due(2.0)


def test_messages_are_bounded_per_second_whatever_their_size() -> None:
    t = Throttle(fps=1000, message_rate=20)
    now, frames = 0.0, 0
    while now < 10.0:
        if t.due(now):
            t.charge(10, 1, now)
            t.drew(now, 0.0)
            frames += 1
        now += 0.001
    assert frames <= 20 + 20 * 10  # the burst, then 20 per second
    assert frames >= 20 * 10


def test_views_share_the_process_limits() -> None:
    shared = (Bucket(1_000), Bucket(10.0))
    a, b = Throttle(shared=shared), Throttle(shared=shared)
    a.charge(900, 1, now=0.0)
    assert b.due(0.0)
    b.charge(600, 1, now=0.0)  # together 1,500 bytes: 500 over the shared second
    assert not a.due(0.0)
    assert not b.due(0.0)
    assert a.next_at(0.0) == pytest.approx(0.5)


def test_the_status_and_the_final_render_are_counted_too() -> None:
    t = Throttle()
    t.charge(120, 1, now=0.0)
    t.charge(0, 0, now=0.0)  # nothing sent: nothing counted
    t.charge(3000, 2, now=0.5)
    assert (t.sent, t.sent_messages) == (3120, 3)


def test_the_status_line_never_delays_the_answer() -> None:
    shared = (Bucket(1_000_000), Bucket(1000.0))
    t = Throttle(message_rate=2, shared=shared)  # a tiny per-view allowance
    for _ in range(50):  # fifty status refreshes at once
        t.charge(200, 1, now=0.0, own=False)
    assert t.due(0.0)
    assert t.sent_messages == 50  # counted, and charged to the kernel's limits
    assert shared[1].level == 950


def test_frames_due_together_are_drawn_apart() -> None:
    pacer = Pacer(0.002)
    views = [Throttle(pacer=pacer) for _ in range(5)]
    slots = [t.next_at(10.0) for t in views]  # five first frames due at once
    assert slots[0] == 10.0  # the first is drawn when due
    assert all(b - a >= 0.002 - 1e-9 for a, b in itertools.pairwise(slots))
    assert [t.due(10.0) for t in views] == [True, False, False, False, False]


def test_a_slot_is_kept_however_late_its_timer_fires() -> None:
    pacer = Pacer(0.002)
    a, b = Throttle(pacer=pacer), Throttle(pacer=pacer)
    assert a.next_at(5.0) == 5.0
    slot = b.next_at(5.0)
    assert slot > 5.0
    # The timer fires late, and again later: the view keeps its slot instead of taking a new
    # one each time (a new one each time never comes due when many views share the steps).
    assert b.next_at(slot + 0.05) == slot + 0.05
    assert b.due(slot + 0.05)
    b.drew(slot + 0.05, 0.0)
    assert b.next_at(slot + 0.06) == pytest.approx(slot + 0.05 + b.interval)


def test_a_view_waiting_for_its_limits_leaves_the_steps_before_free() -> None:
    pacer = Pacer(0.002)
    waiting = Throttle(pacer=pacer, byte_rate=1000)
    waiting.charge(3000, 1, now=0.0)  # two seconds of debt
    assert waiting.next_at(0.0) == pytest.approx(2.0)
    assert Throttle(pacer=pacer).next_at(0.001) == 0.001  # not pushed behind the waiting one


def test_the_pacer_forgets_steps_long_past() -> None:
    pacer = Pacer(0.001)
    for i in range(10_000):
        pacer.claim(i * 0.01)
    assert len(pacer._times) <= Pacer._KEEP + 1


def _stream_views(n: int, seconds: float) -> list[list[float]]:
    """``n`` views sharing a kernel's limits, each always with text to show, for ``seconds``."""
    import heapq

    shared, pacer = (Bucket(500_000), Bucket(400.0, max_debt=400.0)), Pacer(0.002)
    views = [Throttle(shared=shared, pacer=pacer) for _ in range(n)]
    for view in views:
        view.charge(2000, 4, 0.0, own=False)  # its widgets opening
        view.start()
    frames: list[list[float]] = [[] for _ in range(n)]
    due = [(0.3 + i * 0.001, i) for i in range(n)]
    while due:
        now, i = heapq.heappop(due)
        if now > seconds:
            break
        view = views[i]
        if view.due(now):
            view.charge(300, 1, now)
            view.drew(now, 0.0005)
            frames[i].append(now)
        heapq.heappush(due, (view.next_at(now), i))
    for view in views:
        view.stop()
    assert pacer.active == 0
    return frames


def test_views_sharing_a_kernel_draw_equally_often_within_the_shared_rate() -> None:
    frames = _stream_views(150, 10.0)
    counts = [len(f) for f in frames]
    assert min(counts) >= max(counts) - 1  # fair: no view starved while others draw
    assert sum(counts) / 9.7 <= 400 * 0.75  # frames keep to their share of the messages
    assert max(f[0] for f in frames) < 1.0  # every view's first frame within a second


def test_few_views_keep_the_single_view_interval() -> None:
    frames = _stream_views(10, 5.0)
    gaps = [b - a for f in frames for a, b in itertools.pairwise(f)]
    assert max(gaps) == pytest.approx(0.2, abs=0.005)


def test_status_lines_are_spaced_by_the_number_of_views_streaming() -> None:
    shared, pacer = (Bucket(500_000), Bucket(400.0)), Pacer(0.002)
    views = [Throttle(shared=shared, pacer=pacer) for _ in range(150)]
    assert views[0].status_interval() == 0.0
    for view in views:
        view.start()
        view.start()  # idempotent
    assert pacer.active == 150
    assert views[0].status_interval() == pytest.approx(150 / (400 * 0.25 * 0.8))
    for view in views[:140]:
        view.stop()
        view.stop()
    assert pacer.active == 10
    assert views[0].status_interval() <= 1.0


def test_a_shared_debt_is_capped() -> None:
    bucket = Bucket(400.0, max_debt=400.0)
    bucket.take(5000, 0.0)  # a thousand widgets opened at once
    assert bucket.wait(0.0) == pytest.approx(1.0)
    own = Bucket(400.0)
    own.take(5000, 0.0)
    assert own.wait(0.0) == pytest.approx(11.5)


def test_a_slot_given_back_is_free_for_another_view() -> None:
    pacer = Pacer(0.002)
    first, second = pacer.claim(1.0), pacer.claim(1.0)
    assert (first, second) == (1.0, pytest.approx(1.002))
    pacer.release(first)
    assert pacer.claim(1.0) == 1.0  # not pushed behind the slot that will never be drawn
    stopped = Throttle(pacer=pacer, shared=(Bucket(500_000), Bucket(400.0)))
    stopped.start()
    held = stopped.next_at(5.0)
    stopped.stop()
    assert pacer.claim(held) == held
