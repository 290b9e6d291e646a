"""io.lock.hold, the one lock wrapper: it tries, waits up to a timeout on an injected clock, names the holder, and
keeps a holder record; every store's run lock (JSON file, SQLite file, PostgreSQL table) goes through it."""

import os

import pytest

from movie_enrichment.io import lock
from movie_enrichment.io.stores import StoreBusy, open_store


class FakeLock:
    """A lock that another holder keeps for `busy_tries` tries, with its record in memory."""

    name = "the fake lock"

    def __init__(self, busy_tries: int, other: dict | None = None):
        self.busy_tries = busy_tries
        self.record = other
        self.tries = 0
        self.held = False
        self.released = 0

    def try_acquire(self) -> bool:
        self.tries += 1
        self.held = self.tries > self.busy_tries
        return self.held

    def release(self) -> None:
        self.released += 1
        self.held = False

    def read_holder(self):
        return self.record

    def write_holder(self, who):
        self.record = who

    def clear_holder(self, who):
        if self.record == who:
            self.record = None


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


OTHER = {"pid": 4242, "since": "2026-12-01T06:40:00Z", "command": "movie-enrich --input movies.json"}


def test_a_held_lock_is_waited_for_up_to_the_timeout_then_refused_naming_its_holder():
    clock, fake = Clock(), FakeLock(busy_tries=10 ** 6, other=OTHER)
    with pytest.raises(lock.LockBusy) as refused:
        with lock.hold(fake, 5.0, "another run is already enriching movies.json", clock=clock, sleep=clock.sleep):
            pytest.fail("the block ran without the lock")
    assert str(refused.value) == ("another run is already enriching movies.json, still after 5 s (pid 4242, since "
                                  "2026-12-01T06:40:00Z: movie-enrich --input movies.json; lock the fake lock)")
    assert abs(sum(clock.slept) - 5.0) < 1e-9 and max(clock.slept) <= lock.POLL_SECONDS
    assert fake.released == 1 and fake.record == OTHER, "what trying took is freed; the holder's record stays"


def test_a_timeout_of_zero_refuses_at_once_without_waiting():
    clock, fake = Clock(), FakeLock(busy_tries=1, other=OTHER)
    with pytest.raises(lock.LockBusy, match=r"^busy \(pid 4242, since .*; lock the fake lock\)$"):
        with lock.hold(fake, 0, "busy", clock=clock, sleep=clock.sleep):
            pass
    assert fake.tries == 1 and clock.slept == []


def test_a_lock_freed_while_waiting_is_taken_and_carries_this_process_as_holder():
    clock, fake = Clock(), FakeLock(busy_tries=3, other=OTHER)
    with lock.hold(fake, 60.0, "busy", command="the test", clock=clock, sleep=clock.sleep):
        assert fake.held and fake.record["pid"] == os.getpid() and fake.record["command"] == "the test"
        assert fake.record["since"].endswith("Z") and len(fake.record["since"]) == len("2026-12-01T06:40:00Z")
    assert fake.tries == 4 and len(clock.slept) == 2  # the first try, then two more between two sleeps
    assert fake.record is None and not fake.held, "released, and the record removed"


def test_what_the_block_raises_passes_through_and_the_lock_is_released():
    fake = FakeLock(busy_tries=0)
    with pytest.raises(KeyError):
        with lock.hold(fake, 0, "busy"):
            raise KeyError("inside")
    assert fake.released == 1 and fake.record is None


@pytest.mark.parametrize("kind", ["sqlite", "json"])
def test_a_file_stores_run_lock_is_the_run_lock_file_with_its_holder(kind, tmp_path):
    if kind == "sqlite":
        path = tmp_path / "movies.db"
        url = f"sqlite:///{path}"
    else:
        path = tmp_path / "movies.json"
        path.write_text("{}")
        url = str(path)
    with open_store(url) as store, store.run_lock(command="first run"):
        assert lock.holder(lock.run_lock_path(str(path)))["command"] == "first run"
        with open_store(url) as again, pytest.raises(StoreBusy) as refused:
            with again.run_lock():
                pytest.fail("two holders")
        assert "first run" in str(refused.value) and f"pid {os.getpid()}" in str(refused.value)
        assert str(refused.value).endswith("; wait for it to finish") and "\n" not in str(refused.value)
    assert not os.path.exists(lock.run_lock_path(str(path)) + lock.HOLDER_SUFFIX)


def test_a_store_lock_does_not_turn_the_blocks_own_store_busy_into_a_refusal(tmp_path):
    with pytest.raises(StoreBusy, match="^raised inside$"):
        with open_store(f"sqlite:///{tmp_path / 'movies.db'}") as store, store.run_lock():
            raise StoreBusy("raised inside")
