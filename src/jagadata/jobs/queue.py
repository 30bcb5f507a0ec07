"""The task queue: Huey on a SQLite file in the data dir by default, on Redis when one is set.

The queue only nudges: a message in it names a job and the ids it works on. Losing one (a worker
killed after taking it, Redis flushed) delays work until the reconciler notices; it loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from huey import Huey, RedisHuey, SqliteHuey  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import Settings, get_settings
from jagadata.db import make_engine, session_factory
from jagadata.jobs.registry import JobId, load_all_jobs
from jagadata.jobs.runs import run_once_per_slot

QUEUE_NAME: Final = "jagadata"
QUEUE_FILE: Final = "queue.sqlite3"
DEFAULT_LEASE: Final = timedelta(minutes=5)
"""How long a worker keeps a claimed row before another may take it over (longer than a send)."""

logger = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The queue's storage cannot be reached; `where` never contains a password."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class JobContext:
    """What a running job has: the settings, its own database sessions, the queue, the lease."""

    def __init__(self, *, settings: Settings, queue: JobQueue, lease: timedelta) -> None:
        self.settings = settings
        self.queue = queue
        self.lease = lease
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._lock = threading.Lock()

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on jagadata's database; one engine, made on first use, shared by threads."""
        with self._lock:
            if self._sessions is None:
                self._engine = make_engine(self.settings.effective_database_url)
                self._sessions = session_factory(self._engine)
            return self._sessions

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = self._sessions = None


class JobQueue:
    """Huey with every registered job bound to this queue's context; `enqueue` by name and ids."""

    def __init__(self, huey: Huey, *, settings: Settings, lease: timedelta = DEFAULT_LEASE) -> None:
        self.huey = huey
        self.settings = settings
        self.context = JobContext(settings=settings, queue=self, lease=lease)
        self._tasks: dict[str, Any] = {}
        jobs, periodic_jobs = load_all_jobs()
        for name, job in jobs.items():
            self._tasks[name] = huey.task(name=name)(self._bind(name, job.run))
        for name, periodic_job in periodic_jobs.items():
            periodic_task = huey.periodic_task(periodic_job.schedule, name=name)
            self._tasks[name] = periodic_task(self._bind_periodic(name, periodic_job.run))

    def _bind(self, name: str, run: Callable[..., None]) -> Callable[..., None]:
        def execute(*ids: JobId) -> None:
            run(self.context, *ids)

        execute.__name__ = execute.__qualname__ = name
        execute.__doc__ = run.__doc__
        return execute

    def _bind_periodic(self, name: str, run: Callable[[JobContext], None]) -> Callable[[], None]:
        """Every worker's scheduler starts it; the database lets one of them run it per minute."""

        def execute() -> None:
            run_once_per_slot(
                sessions=self.context.sessions, name=name, run=lambda: run(self.context)
            )

        execute.__name__ = execute.__qualname__ = name
        execute.__doc__ = run.__doc__
        return execute

    @property
    def names(self) -> list[str]:
        return sorted(self._tasks)

    @property
    def uses_redis(self) -> bool:
        return isinstance(self.huey, RedisHuey)

    @property
    def description(self) -> str:
        """Where the queue lives, as a person may read it (a Redis password is hidden)."""
        return describe_queue(self.settings)

    def enqueue(self, name: str, *ids: JobId, at: datetime | None = None) -> None:
        """Ask a worker to run job `name` on `ids`, now or from `at` (timezone-aware) on."""
        if name not in self._tasks:
            raise KeyError(f"no job is called {name!r}; known: {', '.join(self.names)}")
        task = self._tasks[name]
        if at is None:
            task(*ids)
        else:
            task.schedule(args=ids, eta=at)

    def pending_count(self) -> int:
        return int(self.huey.pending_count())

    def scheduled_count(self) -> int:
        return int(self.huey.scheduled_count())

    def ping(self) -> None:
        """Raise QueueUnavailable unless the queue's storage answers."""
        try:
            self.huey.pending_count()
        except Exception as error:
            raise QueueUnavailable(self.description, _reason(error)) from None

    def close(self) -> None:
        self.context.close()
        close_storage = getattr(self.huey.storage, "close", None)
        if callable(close_storage):
            close_storage()


def make_queue(
    settings: Settings, *, lease: timedelta = DEFAULT_LEASE, immediate: bool = False
) -> JobQueue:
    """The queue `settings` describe: Redis when redis_url is set, else data_dir/queue.sqlite3.

    `immediate=True` runs each job synchronously as it is enqueued (tests, one-off commands).
    """
    if settings.redis_url:
        huey = RedisHuey(
            QUEUE_NAME, url=settings.redis_url, results=False, utc=True, immediate=immediate
        )
    else:
        path = queue_file(settings)
        if not immediate:
            path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(
            QUEUE_NAME, filename=str(path), results=False, utc=True, immediate=immediate
        )
    return JobQueue(huey, settings=settings, lease=lease)


def queue_file(settings: Settings) -> Path:
    return (settings.data_dir / QUEUE_FILE).resolve()


def describe_queue(settings: Settings) -> str:
    """'Redis redis://host:6379/0' (password hidden) or 'SQLite /path/queue.sqlite3'."""
    if settings.redis_url:
        return f"Redis {_without_password(settings.redis_url)}"
    return f"SQLite {queue_file(settings)}"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _reason(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else error.__class__.__name__


_installed: JobQueue | None = None
_installed_lock = threading.Lock()


def install_queue(queue: JobQueue | None) -> JobQueue | None:
    """Make `queue` this process's queue (for after-commit nudges); returns the one it replaces."""
    global _installed
    with _installed_lock:
        previous, _installed = _installed, queue
    return previous


def current_queue() -> JobQueue:
    """This process's queue: the installed one, else the one the environment's settings describe."""
    global _installed
    with _installed_lock:
        if _installed is None:
            _installed = make_queue(get_settings())
        return _installed
