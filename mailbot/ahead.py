"""Run a producer (the IMAP fetch) a few items ahead of its consumer, on a second thread.

Fetching is mostly waiting on the socket and the TLS layer, which release the
GIL; while the pipeline parses, hashes and files one message, the next ones
are already arriving.  The producer owns its resource (the IMAP connection)
until the ``with`` block ends: the thread is joined there, so the caller may
use the connection again afterwards.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_END = object()


@contextmanager
def ahead(source: Iterator[T], depth: int = 4,
          discard: Callable[[T], None] = lambda _item: None) -> Iterator[Iterator[T]]:
    """Yield an iterator over *source*'s items, produced up to *depth* ahead.

    An exception in the producer is raised in the consumer, at the point it
    happened.  Items produced but never consumed (the consumer stopped early)
    are passed to *discard*.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put((item, None)):
                    discard(item)
                    return
            put((_END, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((_END, e))
        finally:
            close = getattr(source, "close", None)
            if close:
                close()

    def consume() -> Iterator[T]:
        while True:
            item, error = slots.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item

    worker = threading.Thread(target=produce, name="imap-fetch", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        worker.join()
        while True:
            try:
                item, _ = slots.get_nowait()
            except queue.Empty:
                break
            if item is not _END:
                discard(item)
