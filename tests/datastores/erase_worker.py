"""Erase one person in a database, as a worker would: `python erase_worker.py URL MAPPING EMAIL`.
The kill test runs it as a separate process and kills it with SIGKILL mid-transaction."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from jagadata.datastores.engine import Operation, compile_plan, connect, erase
from jagadata.datastores.results import Person
from jagadata.manifest.mapping import Datastore

KEY = bytes(range(32))


def main(url: str, mapping: str, email: str) -> None:
    datastore = Datastore.model_validate(yaml.safe_load(Path(mapping).read_text()))
    plan = compile_plan(datastore, Operation.ERASE, [Person.of(email=email)], system="shop")
    with connect(url) as conn:
        report = erase(conn, plan, key=KEY)
    print(report.as_dict())


if __name__ == "__main__":
    main(*sys.argv[1:4])
