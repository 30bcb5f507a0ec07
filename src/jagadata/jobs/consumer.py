"""Consumers: `jagadata worker` runs one in the foreground; `jagadata serve` runs one in threads.

Any number of consumers may take from the same queue, on any number of machines (with Redis):
each job claims its row in the database, so two workers never do the same step at once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from huey.consumer import Consumer  # type: ignore[import-untyped]

from jagadata.jobs.queue import JobQueue

POLL_START_SECONDS: Final = 0.1
POLL_MAX_SECONDS: Final = 1.0
"""A SQLite queue is polled; an idle worker backs off to one look a second. Redis blocks instead."""
SHUTDOWN_SECONDS: Final = 30.0


def _options(workers: int) -> dict[str, Any]:
    return {
        "workers": workers,
        "worker_type": "thread",
        "periodic": True,
        "initial_delay": POLL_START_SECONDS,
        "max_delay": POLL_MAX_SECONDS,
        "backoff": 1.5,
        "check_worker_health": True,
        "shutdown_timeout": SHUTDOWN_SECONDS,
    }


class _GracefulConsumer(Consumer):  # type: ignore[misc]
    """Ctrl+C and SIGTERM (a supervisor's stop) both let started jobs finish; a second one
    stops at once."""

    def __init__(self, huey: Any, **options: Any) -> None:
        super().__init__(huey, **options)
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._signal_actions[signum] = (False, True)  # (restart, graceful)


def run_worker(queue: JobQueue, *, workers: int) -> None:
    """Take jobs until SIGINT/SIGTERM (finish the current ones, then stop); blocks."""
    _GracefulConsumer(queue.huey, **_options(workers)).run()


class _ConsumerWithoutSignals(Consumer):  # type: ignore[misc]
    """A consumer living inside another program, which keeps its own signal handlers."""

    def _set_signal_handlers(self) -> None:
        return None


@contextmanager
def background_consumer(queue: JobQueue, *, workers: int = 2) -> Iterator[None]:
    """Run a consumer in daemon threads of this process while the block runs."""
    consumer = _ConsumerWithoutSignals(queue.huey, **_options(workers))
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)
