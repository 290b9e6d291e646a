"""How fast one process may ask, learnt from TMDB's 429s: additive increase, multiplicative decrease.

In the spirit of Beam's `apache_beam/io/components/adaptive_throttler.py`: the throttler holds no clock and no
thread; every call takes `now`, so its behaviour is checked without sleeping. Beam's throttler drops a share of
requests in proportion to the failures; here the answer is a rate, which `limits.RateLimiter` paces requests at:

- a 429 cuts the rate to DECREASE times what it was (once per overload: 429s within COOLDOWN seconds of a cut
  are the same overload, already answered);
- from then on the rate grows by INCREASE_SHARE of the ceiling each second, back to the ceiling.

The request that drew the 429 waits its `Retry-After` before it is asked again (`limits.Limits.after_429`); the
process's other threads go on at the lower rate rather than all stopping for it. Simulated (three and four
processes on one key, each allowed the whole limit, no shared budget; `tests/test_rate_limits.py`), stopping
every thread for each 429's Retry-After of 1 s used 62-80% of the limit, this way 87-94% with at most 3.5% of
requests refused. Processes that share a key but no budget file (on other machines) thus converge on the key's
limit together, as TCP's senders share a link: whoever overshoots slows down, and all probe upwards slowly.
"""

import threading

DECREASE = 0.7
INCREASE_SHARE = 0.025  # of the ceiling, per second: from 70% back to 100% in 12 s
COOLDOWN = 1.0
MIN_RATE = 0.5  # requests/s: a throttled process still asks, or it would never learn that the limit rose
MAX_RETRY_AFTER = 60.0


class AdaptiveThrottle:
    """The rate one process may use now, shared by its threads.

    Args:
        ceiling: the configured rate (requests/s); 0 or less: no limit, and a 429 cuts nothing.
    """

    def __init__(self, ceiling: float):
        self.ceiling = ceiling if ceiling and ceiling > 0 else 0.0
        self._lock = threading.Lock()
        self._cut_rate = self.ceiling  # the rate right after the last cut
        self._cut_at = float("-inf")
        self.cuts = 0

    def rate(self, now: float) -> float:
        """Requests/s allowed at `now` (0: no limit)."""
        if not self.ceiling:
            return 0.0
        with self._lock:
            grown = self._cut_rate + INCREASE_SHARE * self.ceiling * max(0.0, now - self._cut_at)
        return min(self.ceiling, grown)

    def throttled(self, now: float) -> None:
        """TMDB answered 429 at `now`."""
        if not self.ceiling:
            return
        current = self.rate(now)
        with self._lock:
            if now - self._cut_at >= COOLDOWN:
                self._cut_rate = max(MIN_RATE, current * DECREASE)
                self._cut_at = now
                self.cuts += 1


def retry_after(value: str | None) -> float | None:
    """The seconds of a `Retry-After` header given in seconds (TMDB sends no HTTP date), bounded; None if absent."""
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value or "")))
    except ValueError:
        return None
