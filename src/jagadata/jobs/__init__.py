"""Background work: Huey as the queue, the database as the truth, a reconciler for what is stuck.

Domains declare jobs in their own `jobs.py` with `@job`/`@periodic`, enqueue them with
`enqueue_after_commit`, and tell the reconciler how to find stuck work with `@reconciles`.
"""

from jagadata.jobs.consumer import background_consumer, run_worker
from jagadata.jobs.nudges import enqueue_after_commit, pending_nudges
from jagadata.jobs.queue import (
    DEFAULT_LEASE,
    JobContext,
    JobQueue,
    QueueUnavailable,
    current_queue,
    describe_queue,
    install_queue,
    make_queue,
)
from jagadata.jobs.reconciler import reconcile, reconciles
from jagadata.jobs.registry import JobId, Schedule, crontab, every_minute, job, periodic

__all__ = [
    "DEFAULT_LEASE",
    "JobContext",
    "JobId",
    "JobQueue",
    "QueueUnavailable",
    "Schedule",
    "background_consumer",
    "crontab",
    "current_queue",
    "describe_queue",
    "enqueue_after_commit",
    "every_minute",
    "install_queue",
    "job",
    "make_queue",
    "pending_nudges",
    "periodic",
    "reconcile",
    "reconciles",
    "run_worker",
]
