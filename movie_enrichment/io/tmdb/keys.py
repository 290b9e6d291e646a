"""Whether TMDB accepted an API key, per API root and key, in one process: the verdicts and the one check at a time.

A cached answer is trusted only once the key is known good, so that a wrong key is never hidden by the cache. An
acceptance holds for KEY_ACCEPTED_SECONDS (a long --watch asks again); a refusal for the life of the object.
"""

import hashlib
import threading
import time
from typing import Callable

KEY_ACCEPTED_SECONDS = 3600.0

KeyId = tuple[str, str]


def key_id(base_url: str, api_key: str) -> KeyId:
    """The API root and the key's digest: the key itself is never kept."""
    return base_url, hashlib.sha256(api_key.encode()).hexdigest()


class KeyTrust:
    """TMDB's verdicts on keys, shared by every client of a process.

    Args:
        now: the clock (monotonic seconds), injected for tests.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._lock = threading.Lock()
        self.checking = threading.Lock()  # held by the one request that tells whether TMDB takes the key
        self._accepted: dict[KeyId, float | None] = {}  # when accepted; None: refused
        self._check_failed: dict[KeyId, tuple[float, str]] = {}  # TMDB did not answer the check: when, why

    def now(self) -> float:
        return self._now()

    def state(self, key: KeyId) -> bool | None:
        """True when TMDB accepted the key (within the hour), False when it refused it, None when not known."""
        with self._lock:
            if key not in self._accepted:
                return None
            accepted = self._accepted[key]
        if accepted is None:
            return False
        return True if self._now() - accepted < KEY_ACCEPTED_SECONDS else None

    def accept(self, key: KeyId) -> None:
        with self._lock:
            self._accepted[key] = self._now()

    def refuse(self, key: KeyId) -> None:
        with self._lock:
            self._accepted[key] = None

    def check_failed(self, key: KeyId) -> tuple[float, str] | None:
        """When and why the last check of this key got no answer from TMDB, if it did not."""
        with self._lock:
            return self._check_failed.get(key)

    def note_check_failed(self, key: KeyId, why: str) -> None:
        with self._lock:
            self._check_failed[key] = (self._now(), why)

    def forget(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._check_failed.clear()
