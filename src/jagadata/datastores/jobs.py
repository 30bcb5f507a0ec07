"""The datastore engine's background work: one queued run per database task of a started
request (see automation.py)."""

from __future__ import annotations

from jagadata.datastores.automation import RUN_JOB, run_task_job

__all__ = ["RUN_JOB", "run_task_job"]
