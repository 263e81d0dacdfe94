"""ahead: the fetch runs on its own thread, a few items ahead; errors and early stops."""

from __future__ import annotations

import threading
import time

import pytest

from mailbot.ahead import ahead


def test_items_arrive_in_order_from_another_thread():
    threads = set()

    def source():
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    with ahead(source(), depth=3) as items:
        assert list(items) == list(range(50))
    assert threads == {"imap-fetch"}


def test_the_producer_runs_ahead_while_the_consumer_works():
    produced: list[float] = []

    def source():
        for i in range(4):
            produced.append(time.monotonic())
            yield i

    with ahead(source(), depth=4) as items:
        first = next(items)
        time.sleep(0.3)
        assert first == 0 and len(produced) == 4  # all fetched while "processing" the first
        assert list(items) == [1, 2, 3]


def test_an_error_in_the_producer_is_raised_in_the_consumer_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise OSError("IMAP connection lost")

    got: list[int] = []
    with pytest.raises(OSError, match="connection lost"), ahead(source()) as items:
        got.extend(items)
    assert got == [1, 2]


def test_stopping_early_discards_what_was_fetched_and_closes_the_source():
    closed, discarded = [], []

    def source():
        try:
            yield from range(100)
        finally:
            closed.append(True)

    with ahead(source(), depth=5, discard=discarded.append) as items:
        for item in items:
            if item == 2:
                break
        time.sleep(0.2)
    assert closed == [True]
    assert discarded and all(i > 2 for i in discarded) and len(discarded) <= 6
