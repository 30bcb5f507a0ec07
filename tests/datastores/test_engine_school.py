"""The datastore engine on a school's database, on SQLite, PostgreSQL and MariaDB: every
request's result against an oracle written without the engine (datasets/school.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "datasets"))

import database_state as state
import school
from engine_runs import (
    ERASURE_KEY,
    accessed,
    changes_problems,
    dialect_of,
    statement_problems,
)
from fake_people import seeded

from jagadata.datastores.dryrun import dry_run
from jagadata.datastores.engine import (
    Operation,
    compile_plan,
    connect,
    erase,
    rectify,
    restrict,
)
from jagadata.datastores.errors import MappingError
from jagadata.datastores.results import Outcome, Person, Report
from jagadata.manifest.mapping import Datastore

SYSTEM = "school_db"
PEOPLE = ("rich", "plain", "guardian", "guardian_by_phone")
DATA = school.generate()
MAPPING = school.mapping()
SCORES = MAPPING.table("assessment_scores")
assert SCORES is not None
SIDE_TABLES = [t for t in MAPPING.tables if t.restriction and t.restriction.table]


@pytest.fixture
def school_url(target_url: str) -> str:
    """An empty database on each engine, filled with the school."""
    school.create(target_url)
    return target_url


def _snapshot(url: str) -> state.Snapshot:
    return state.snapshot(url, school.metadata)


def _erase(url: str, people: list[Person], mapping: Datastore = MAPPING) -> Report:
    with connect(url) as conn:
        plan = compile_plan(mapping, Operation.ERASE, people, system=SYSTEM)
        return erase(conn, plan, key=ERASURE_KEY)


def _variant(change: dict[str, Any]) -> Datastore:
    """The school's mapping with one table added or replaced."""
    raw = MAPPING.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    raw["tables"] = [t for t in raw["tables"] if t["name"] != change["name"]] + [change]
    return Datastore.model_validate(raw)


def test_the_roles_hold() -> None:
    """The rich pupil is in every pupil table with replies two levels deep; the plain pupil
    has one enrolment only; the guardian has two children."""
    rich, plain = DATA.rows["pupils"][school.RICH], DATA.rows["pupils"][school.PLAIN]
    logs = DATA.rows["activity_logs"]
    mine = {r["id"] for r in logs if r["pupil_nis"] == rich["nis"]}
    replies = {r["id"] for r in logs if r["parent_id"] in mine}
    assert replies and {r["id"] for r in logs if r["parent_id"] in replies}
    assert [r["pupil_nis"] for r in DATA.rows["enrolments"]].count(plain["nis"]) == 1
    assert plain["nis"].startswith("00")
    links = DATA.rows["pupil_guardians"]
    shared = {r["guardian_id"] for r in links if r["pupil_nis"] == rich["nis"]} & {
        r["guardian_id"] for r in links if r["pupil_nis"] == DATA.rows["pupils"][2]["nis"]
    }
    assert len(shared) == 1


@pytest.mark.parametrize("who", PEOPLE)
def test_access_returns_exactly_the_persons_rows(school_url: str, who: str) -> None:
    before = _snapshot(school_url)
    person = DATA.people[who]
    expected = state.rows_of(before, school.person_rows(before, [person]))
    assert expected, "the oracle finds the person"

    got, count = accessed(school_url, MAPPING, [person], SYSTEM)

    assert got == expected
    assert count == sum(map(len, expected.values())), "a row came twice"
    assert _snapshot(school_url) == before


def test_access_follows_replies_under_the_pupils_log_entries(school_url: str) -> None:
    before = _snapshot(school_url)
    got, _ = accessed(school_url, MAPPING, [DATA.people["rich"]], SYSTEM)
    nis = DATA.rows["pupils"][school.RICH]["nis"]
    logs = [dict(row) for row in got["activity_logs"]]
    assert {r["pupil_nis"] for r in logs} == {nis, None}
    assert len(logs) == len(school.person_rows(before, [DATA.people["rich"]])["activity_logs"])


@pytest.mark.parametrize("who", PEOPLE)
def test_erasure_leaves_exactly_the_expected_state_and_a_rerun_changes_nothing(
    school_url: str, who: str
) -> None:
    before = _snapshot(school_url)
    person = DATA.people[who]
    expected = school.expected_erasure(before, [person])

    report = _erase(school_url, [person])
    after = _snapshot(school_url)

    assert state.erasure_problems(before, after, MAPPING, school.metadata, expected) == []
    assert state.reported_counts(MAPPING, report) == state.expected_counts(MAPPING, expected)

    _erase(school_url, [person])
    assert _snapshot(school_url) == after


def _scores_kept() -> Datastore:
    """The mapping with assessment scores kept (masked) on erasure, as a school keeping
    report cards would map them."""
    assert SCORES is not None
    raw = SCORES.model_dump(mode="json", exclude_defaults=True)
    return _variant({**raw, "erase": "mask"})


@pytest.mark.parametrize("who", ["rich", "guardian", "all"])
def test_kept_scores_keep_their_enrolment_and_pupil_masked_and_listed_as_restricted(
    school_url: str, who: str
) -> None:
    """Scores that stay are listed in the side table; the enrolments they point at and the
    pupil those point at stay too (foreign keys), masked, the pupil marked restricted."""
    people = list(DATA.people.values()) if who == "all" else [DATA.people[who]]
    mapping = _scores_kept()
    before = _snapshot(school_url)
    expected = school.expected_erasure(before, people, scores_kept=True)

    report = _erase(school_url, people, mapping)

    after = _snapshot(school_url)
    assert state.erasure_problems(before, after, mapping, school.metadata, expected) == []
    assert state.reported_counts(mapping, report) == state.expected_counts(mapping, expected)


def test_erasing_again_by_a_student_number_that_stays_changes_nothing(school_url: str) -> None:
    """With pupils kept on erasure (erase: mask), the NIS, their key, stays: a second erasure
    naming it finds the pupil again and must leave the masked values as they are."""
    pupils = MAPPING.table("pupils")
    assert pupils is not None
    mapping = _variant({**pupils.model_dump(mode="json", exclude_defaults=True), "erase": "mask"})
    person = Person.of(nis=DATA.rows["pupils"][school.RICH]["nis"])
    before = _snapshot(school_url)
    expected = school.expected_erasure(before, [person], pupils_kept=True)
    assert expected.masked["pupils"]

    _erase(school_url, [person], mapping)
    after = _snapshot(school_url)
    _erase(school_url, [person], mapping)

    assert state.erasure_problems(before, after, mapping, school.metadata, expected) == []
    assert _snapshot(school_url) == after


def test_log_entries_and_the_replies_under_them_can_be_deleted_instead(school_url: str) -> None:
    """With logs mapped `erase: delete`, a pupil's entries go with the replies hanging under
    them (a self-reference two levels deep), and no other entry."""
    logs = MAPPING.table("activity_logs")
    assert logs is not None
    mapping = _variant({**logs.model_dump(mode="json", exclude_defaults=True), "erase": "delete"})
    people = [DATA.people["rich"]]
    before = _snapshot(school_url)
    expected = school.expected_erasure(before, people, logs_kept=False)
    assert len(expected.deleted["activity_logs"]) == 5

    report = _erase(school_url, people, mapping)

    after = _snapshot(school_url)
    assert state.erasure_problems(before, after, mapping, school.metadata, expected) == []
    assert state.reported_counts(mapping, report) == state.expected_counts(mapping, expected)


def test_erasing_the_rich_pupil_keeps_the_guardian_their_sibling_still_has(
    school_url: str,
) -> None:
    before = _snapshot(school_url)
    _erase(school_url, [DATA.people["rich"]])
    after = _snapshot(school_url)

    rich, sibling = (DATA.rows["pupils"][i]["nis"] for i in (school.RICH, school.SIBLING))
    assert (rich,) not in after["pupils"]
    assert after["guardians"] == before["guardians"]
    assert {k for k in after["pupil_guardians"] if k[0] == sibling} == {
        k for k in before["pupil_guardians"] if k[0] == sibling
    }
    assert rich not in {r["pupil_nis"] for r in after["activity_logs"].values()}


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_erasing_many_people_in_one_plan_equals_the_oracle_for_all(
    school_url: str, batch_size: int
) -> None:
    """Also when the keys go in batches smaller than the rows found."""
    people = [DATA.people[who] for who in PEOPLE]
    mapping = MAPPING.model_copy(update={"batch_size": batch_size})
    before = _snapshot(school_url)
    expected = school.expected_erasure(before, people)

    report = _erase(school_url, people, mapping)

    problems = state.erasure_problems(
        before, _snapshot(school_url), MAPPING, school.metadata, expected
    )
    assert problems == []
    assert state.reported_counts(MAPPING, report) == state.expected_counts(MAPPING, expected)


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_access_for_many_people_in_one_plan_is_the_union_of_single_plans(
    school_url: str, batch_size: int
) -> None:
    people = [DATA.people[who] for who in PEOPLE]
    mapping = MAPPING.model_copy(update={"batch_size": batch_size})
    union: dict[str, set[Any]] = {}
    for person in people:
        for table, rows in accessed(school_url, MAPPING, [person], SYSTEM)[0].items():
            union.setdefault(table, set()).update(rows)
    before = _snapshot(school_url)

    got, count = accessed(school_url, mapping, people, SYSTEM)

    assert got == union == state.rows_of(before, school.person_rows(before, people))
    assert count == sum(map(len, got.values()))


def test_rectification_changes_exactly_the_given_columns_of_the_persons_rows(
    school_url: str,
) -> None:
    before = _snapshot(school_url)
    people = [DATA.people["rich"], DATA.people["guardian"]]
    found = school.person_rows(before, people)
    name = seeded(7).name()

    with connect(school_url) as conn:
        plan = compile_plan(MAPPING, Operation.RECTIFY, people, system=SYSTEM)
        report = rectify(
            conn, plan, changes={"pupils.full_name": name, "guardians.phone": "081299990000"}
        )

    wanted = {
        "pupils": {k: {"full_name": name} for k in found["pupils"]},
        "guardians": {k: {"phone": "081299990000"} for k in found["guardians"]},
    }
    assert changes_problems(before, _snapshot(school_url), wanted) == []
    assert report.table("pupils").counts.get(Outcome.UPDATED) == len(found["pupils"]) == 1
    assert report.table("guardians").counts.get(Outcome.UPDATED) == len(found["guardians"])


@pytest.mark.parametrize("who", ["rich", "plain"])
def test_restriction_marks_the_persons_rows_and_only_theirs(school_url: str, who: str) -> None:
    """Pupils carry a column; assessment scores and guardian links (a composite key) are
    listed in the side table the application consults, one row each, keyed by JSON."""
    before = _snapshot(school_url)
    person = DATA.people[who]
    found = school.person_rows(before, [person])

    with connect(school_url) as conn:
        report = restrict(conn, compile_plan(MAPPING, Operation.RESTRICT, [person], system=SYSTEM))
    after = _snapshot(school_url)

    wanted = {"pupils": {k: {"restricted": True} for k in found["pupils"]}}
    assert changes_problems(before, after, wanted, skip=["processing_restrictions"]) == []
    side = after["processing_restrictions"]
    assert all(r["restricted_at"] is not None for r in side.values())
    assert state.side_entries(side, SIDE_TABLES) == sorted(
        (table.name, tuple(str(v) for v in key))
        for table in SIDE_TABLES
        for key in found[table.name]
    )
    for table in SIDE_TABLES:
        restricted = report.table(table.name).counts.get(Outcome.RESTRICTED, 0)
        assert restricted == len(found[table.name])
    assert report.table("pupils").counts.get(Outcome.RESTRICTED, 0) == len(found["pupils"])


def test_a_table_no_identity_reaches_is_refused_before_anything_runs(school_url: str) -> None:
    mapping = _variant({"name": "classes", "key": ["id"], "columns": []})
    before = _snapshot(school_url)

    for operation in Operation:
        with pytest.raises(MappingError, match="classes"):
            compile_plan(mapping, operation, [DATA.people["rich"]], system=SYSTEM)

    assert _snapshot(school_url) == before


@pytest.mark.parametrize(
    "table",
    [
        {
            "name": "activity_logs",
            "key": ["id"],
            "references": [{"columns": ["pupil_nis"], "table": "pupils", "declared": False}],
            "erase": "mask",
            "columns": [{"name": "user_agent", "category": "online_identifier"}],
        },
        {
            "name": "guardians",
            "key": ["id"],
            "identities": [{"column": "mobile", "kind": "phone", "stored": "national"}],
        },
    ],
    ids=["unknown-mapped-column", "unknown-identity-column"],
)
def test_a_mapping_naming_an_unknown_column_is_refused_and_nothing_changes(
    school_url: str, table: dict[str, Any]
) -> None:
    before = _snapshot(school_url)
    with pytest.raises(MappingError):
        _erase(school_url, [DATA.people["rich"], DATA.people["guardian"]], _variant(table))
    assert _snapshot(school_url) == before


@pytest.mark.parametrize("operation", list(Operation))
def test_the_dry_run_shows_quoted_names_and_placeholders_never_values(
    target_url: str, operation: Operation
) -> None:
    people = [DATA.people[who] for who in PEOPLE]
    plan = compile_plan(MAPPING, operation, people, system=SYSTEM)

    statements = dry_run(plan, dialect_of(target_url))

    assert statements
    assert statement_problems(statements, MAPPING, people) == []
    assert all(re.search(r"%\(\w+\)s|:\w+|\?|%s", sql) for sql in statements if "WHERE" in sql)


def test_a_key_that_identifies_the_pupil_needs_no_mask_of_its_own(school_url: str) -> None:
    """Erasure masks the mapped columns of rows that stay; the NIS, a text key used as an
    identity and not listed under `columns`, does not stop a pupil from being erased."""
    pupils = MAPPING.table("pupils")
    assert pupils is not None
    raw = pupils.model_dump(mode="json", exclude_defaults=True)
    raw["columns"] = [c for c in raw["columns"] if c["name"] != "nis"]
    mapping = _variant(raw)
    before = _snapshot(school_url)
    person = DATA.people["plain"]
    expected = school.expected_erasure(before, [person])

    report = _erase(school_url, [person], mapping)

    after = _snapshot(school_url)
    assert state.erasure_problems(before, after, mapping, school.metadata, expected) == []
    assert state.reported_counts(mapping, report) == state.expected_counts(mapping, expected)
