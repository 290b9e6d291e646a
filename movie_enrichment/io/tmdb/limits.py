"""When a request may leave: a concurrency slot first, then a rate slot (this process's pace, then the machine's).

The order matters: a thread that took its rate slot before its concurrency slot would stamp a moment at which
it then waited for a connection, and the requests would leave in bunches. Every attempt passes here, urllib3's
own retries too (`transport.LimitedRetry`). Clocks are injected (`now`, `sleep`) so that tests never sleep.
"""

import collections
import contextlib
import threading
import time
from typing import Callable, Iterator

from movie_enrichment.io import stop
from movie_enrichment.io.tmdb.budget import SharedBudget
from movie_enrichment.io.tmdb.throttle import AdaptiveThrottle

# The limiter keeps this far under the configured rate, so that timing jitter between client and server
# never puts one request too many into the server's one-second window.
RATE_MARGIN = 0.975


class RateLimiter:
    """Even spacing plus a sliding one-second window over the moments requests really leave, shared by every
    thread of a process, at the rate its `AdaptiveThrottle` allows now.

    Spacing alone is not enough: threads that wake late (the GIL, a busy core) would send several slots'
    requests at once and push one too many into the server's window. After a 429 the pace is the throttle's
    lower rate (`AdaptiveThrottle`).

    Args:
        rate: requests/s; 0: no limit.
        throttle: the process's throttle; None: a fixed `rate`.
        now, sleep: the clock (monotonic seconds), injected for tests; the default sleep ends when the process is
            asked to stop (`io.stop`), and then the request is not sent (StopRequested).
    """

    def __init__(self, rate: float, throttle: AdaptiveThrottle | None = None,
                 now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = stop.sleep):
        self.throttle = throttle or AdaptiveThrottle(rate)
        self._now, self._sleep = now, sleep
        self._sent: collections.deque[float] = collections.deque()
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._now()
                wait = 0.0
                rate = self.throttle.rate(now) * RATE_MARGIN
                if rate:
                    while self._sent and self._sent[0] <= now - 1.0:
                        self._sent.popleft()
                    wait = self._next - now
                    if len(self._sent) >= max(1, int(rate)):
                        wait = max(wait, self._sent[0] + 1.0 - now)
                if wait <= 0:
                    if rate:
                        self._sent.append(now)
                        self._next = max(self._next, now) + 1.0 / rate
                    return
            self._sleep(min(wait, 1.0))
            stop.check()


class Limits:
    """The gates every attempt passes, shared by every client of a process for one API and rate.

    Args:
        concurrency: requests in flight at once.
        limiter: this process's pace.
        budget: the rate shared with the other processes of this machine; None: none.
        sleep: waits a 429's Retry-After, injected for tests; the default ends when the process is asked to stop.
    """

    def __init__(self, concurrency: int, limiter: RateLimiter, budget: SharedBudget | None = None,
                 sleep: Callable[[float], None] = stop.sleep):
        self.sleep = sleep
        self._in_flight = threading.BoundedSemaphore(max(1, concurrency))
        self.limiter = limiter
        self.throttle = limiter.throttle
        self.budget = budget

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Holds a concurrency slot, then waits for the rate slot: the request leaves as the block starts."""
        with self._in_flight:
            stop.check()  # a stopping process sends no more requests
            self.rate_slot()
            yield

    def rate_slot(self) -> None:
        """Waits for this process's pace, then for the machine's budget; called with a concurrency slot held."""
        self.limiter.acquire()
        if self.budget is not None:
            self.budget.acquire()
        stop.check()  # the waits end early when the process is asked to stop: then no request leaves

    def after_429(self, now: float, retry_after: float) -> None:
        """TMDB answered 429 at `now`: this process slows down (its throttle), and the request that drew it waits
        `retry_after` seconds before it is asked again; called without a concurrency slot held."""
        self.throttle.throttled(now)
        if retry_after > 0:
            self.sleep(retry_after)
            stop.check()
