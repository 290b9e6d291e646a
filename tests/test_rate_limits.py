"""The TMDB client's limits, on an injected clock: spacing, the one-second window, the order of the slots, and
the adaptive throttle (AIMD on 429, Retry-After). Nothing here sleeps."""

import threading

import pytest

from movie_enrichment.io.tmdb import throttle as aimd
from movie_enrichment.io.tmdb.limits import RATE_MARGIN, Limits, RateLimiter
from movie_enrichment.io.tmdb.throttle import AdaptiveThrottle, retry_after


class FakeClock:
    """`now` and `sleep` for one thread: sleeping moves the clock, at once."""

    def __init__(self, start: float = 1000.0):
        self.t = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept.append(seconds)
        self.t += seconds


def sent_times(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(clock.now())
    return times


def busiest_second(times: list[float]) -> int:
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_the_limiter_spaces_requests_evenly_under_the_rate():
    clock = FakeClock()
    times = sent_times(RateLimiter(20, now=clock.now, sleep=clock.sleep), clock, 11)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps == pytest.approx([1 / (20 * RATE_MARGIN)] * 10)


def test_no_second_holds_more_requests_than_the_rate():
    clock = FakeClock()
    times = sent_times(RateLimiter(40, now=clock.now, sleep=clock.sleep), clock, 200)
    assert busiest_second(times) <= 40
    assert 200 / (times[-1] - times[0] + 1 / 39) == pytest.approx(40 * RATE_MARGIN, rel=0.01)


def test_without_a_rate_nothing_waits():
    clock = FakeClock()
    sent_times(RateLimiter(0, now=clock.now, sleep=clock.sleep), clock, 100)
    assert clock.slept == []


def test_a_429_slows_the_pace_of_every_thread():
    clock = FakeClock()
    limiter = RateLimiter(40, now=clock.now, sleep=clock.sleep)
    sent_times(limiter, clock, 5)
    limiter.throttle.throttled(clock.now())
    after = sent_times(limiter, clock, 3)
    assert after[2] - after[1] == pytest.approx(1 / (40 * aimd.DECREASE * RATE_MARGIN), rel=0.01)  # 28/s, not 40


def test_the_throttled_request_waits_its_retry_after_without_a_connection_slot():
    slept = []
    limits = Limits(1, RateLimiter(0), sleep=slept.append)
    limits.after_429(5.0, 2.5)
    assert slept == [2.5]
    with limits.slot():  # the slot was free meanwhile
        pass
    limits.after_429(6.0, 0.0)
    assert slept == [2.5], "no Retry-After, no wait"


def test_throttle_cuts_once_per_overload_and_grows_back_additively():
    throttle = AdaptiveThrottle(40)
    assert throttle.rate(0.0) == 40
    throttle.throttled(10.0)
    assert throttle.rate(10.0) == pytest.approx(40 * aimd.DECREASE)
    throttle.throttled(10.5)  # the same overload's other 429s: no second cut
    assert throttle.cuts == 1 and throttle.rate(10.5) == pytest.approx(28 + 0.5 * aimd.INCREASE_SHARE * 40)
    throttle.throttled(11.0 + aimd.COOLDOWN)  # still too fast a second later: cut again
    assert throttle.cuts == 2
    cut = throttle.rate(12.0)
    assert cut < 28
    assert throttle.rate(14.0) == pytest.approx(cut + 2 * aimd.INCREASE_SHARE * 40)
    assert throttle.rate(1000.0) == 40  # never past the ceiling


def test_throttle_never_falls_to_zero():
    throttle = AdaptiveThrottle(1)
    for second in range(100):
        throttle.throttled(float(second))
    assert throttle.rate(99.0) == aimd.MIN_RATE


def test_without_a_rate_a_429_cuts_nothing():
    throttle = AdaptiveThrottle(0)
    throttle.throttled(1.0)
    assert throttle.rate(1.0) == 0 and throttle.cuts == 0


def test_retry_after_is_read_in_seconds_and_bounded():
    assert retry_after("1") == 1.0 and retry_after("0.25") == 0.25
    assert retry_after("86400") == aimd.MAX_RETRY_AFTER
    assert retry_after(None) is None and retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


@pytest.mark.parametrize("processes", [2, 3, 4])
def test_processes_without_a_shared_budget_converge_on_the_limit(processes):
    """Processes on other machines, each allowed the whole 40/s, against a server that takes 40 in any second:
    with AIMD they settle under the limit, with few refusals and most of the limit used (simulated time)."""
    limit, dt = 40, 0.01
    throttles = [AdaptiveThrottle(40) for _ in range(processes)]
    credit = [0.0] * processes
    window: list[float] = []
    accepted = refused = 0
    for step in range(int(120 / dt)):
        now = step * dt
        window = [t for t in window if t > now - 1.0]
        for i, throttle in enumerate(throttles):
            credit[i] += throttle.rate(now) * dt
            while credit[i] >= 1:
                credit[i] -= 1
                if len(window) >= limit:  # refused: that request waits its Retry-After, the others go on
                    throttle.throttled(now)
                    refused += now >= 60
                    continue
                window.append(now)
                accepted += now >= 60
    # Over the last minute:
    assert accepted / 60 >= 0.8 * limit, accepted / 60
    assert refused / (accepted + refused) <= 0.05, (refused, accepted)


class _Recorder:
    """A semaphore and a limiter that say when they are taken."""

    def __init__(self):
        self.events: list[str] = []
        self.waiting = threading.Event()
        self._semaphore = threading.Semaphore(1)

    def __enter__(self):
        self.events.append("waits for a connection")
        self.waiting.set()
        self._semaphore.acquire()
        self.events.append("concurrency slot")

    def __exit__(self, *exc):
        self._semaphore.release()

    def acquire(self):
        self.events.append("rate slot")


def _limits(recorder: _Recorder) -> Limits:
    limits = Limits(1, RateLimiter(0))
    limits._in_flight = recorder  # pylint: disable=protected-access
    limits.limiter = recorder
    return limits


def test_the_concurrency_slot_comes_before_the_rate_slot():
    recorder = _Recorder()
    with _limits(recorder).slot():
        recorder.events.append("sent")
    assert recorder.events == ["waits for a connection", "concurrency slot", "rate slot", "sent"]


def test_a_thread_waiting_for_a_connection_takes_no_rate_slot():
    recorder = _Recorder()
    limits = _limits(recorder)
    with limits.slot():
        recorder.waiting.clear()
        other = threading.Thread(target=lambda: limits.slot().__enter__())
        other.start()
        assert recorder.waiting.wait(5)
        assert recorder.events.count("rate slot") == 1, "the waiting thread stamped no slot"
    other.join(5)
    assert recorder.events.count("rate slot") == 2
