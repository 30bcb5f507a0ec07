"""The one registry of background jobs and periodic jobs; every domain adds to it from its jobs.py.

    from jagadata.jobs import JobContext, every_minute, job, periodic

    @job("notify.deliver")
    def deliver(context: JobContext, message_id: int) -> None: ...

    @periodic("retention.sweep", crontab(minute="0", hour="2"))
    def sweep(context: JobContext) -> None: ...

A job takes the running context and ids only (ints or strings), never objects or personal data:
the database holds the state, the queue only says which row to look at.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from huey import crontab as _huey_crontab  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from jagadata.jobs.queue import JobContext

JobId = int | str
Schedule = Callable[[datetime], bool]
"""Tells whether a periodic job is due in the minute that starts at the given UTC instant."""

JobFunction = Callable[..., None]
F = TypeVar("F", bound=JobFunction)


@dataclass(frozen=True)
class Job:
    """A kind of background work, known to every process by its name."""

    name: str
    run: Callable[..., None]


@dataclass(frozen=True)
class PeriodicJob:
    """A job the queue's scheduler starts by itself whenever `schedule` says it is due."""

    name: str
    schedule: Schedule
    run: Callable[[JobContext], None]


JOBS: Final[dict[str, Job]] = {}
PERIODIC_JOBS: Final[dict[str, PeriodicJob]] = {}


def job(name: str) -> Callable[[F], F]:
    """Register a function `(context, *ids) -> None` as the job called `name`."""

    def register(function: F) -> F:
        _refuse_duplicate(name, function)
        JOBS[name] = Job(name=name, run=function)
        return function

    return register


def periodic(name: str, schedule: Schedule) -> Callable[[F], F]:
    """Register a function `(context) -> None` that runs whenever `schedule` is due."""

    def register(function: F) -> F:
        _refuse_duplicate(name, function)
        PERIODIC_JOBS[name] = PeriodicJob(name=name, schedule=schedule, run=function)
        return function

    return register


def _refuse_duplicate(name: str, function: Callable[..., Any]) -> None:
    known = JOBS.get(name) or PERIODIC_JOBS.get(name)
    if known is not None and _qualified(known.run) != _qualified(function):
        raise ValueError(
            f"two jobs are called {name!r}: {_qualified(known.run)} and {_qualified(function)}"
        )


def _qualified(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def crontab(
    minute: str = "*", hour: str = "*", day: str = "*", month: str = "*", day_of_week: str = "*"
) -> Schedule:
    """A schedule in crontab terms (UTC): crontab(minute="0", hour="2") is every day at 02:00."""
    schedule: Schedule = _huey_crontab(
        minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, strict=True
    )
    return schedule


def every_minute() -> Schedule:
    return crontab()


def load_all_jobs() -> tuple[dict[str, Job], dict[str, PeriodicJob]]:
    """Import every domain's `jobs` module (and the reconciler) so the registry is complete."""
    import jagadata

    importlib.import_module("jagadata.jobs.reconciler")
    for module in pkgutil.iter_modules(jagadata.__path__):
        if module.ispkg and importlib.util.find_spec(f"jagadata.{module.name}.jobs"):
            importlib.import_module(f"jagadata.{module.name}.jobs")
    return JOBS, PERIODIC_JOBS
