"""`jagadata manifest schema` gives editors a JSON Schema that agrees with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.manifest.loader import parse_yaml

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    result = CliRunner().invoke(app, ["manifest", "schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def as_json(path: Path) -> object:
    raw, _ = parse_yaml(path.read_text(encoding="utf-8"), file=str(path))
    return json.loads(json.dumps(raw, default=str))


def test_schema_is_a_valid_draft_2020_12_schema(schema: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "jagadata privacy manifest"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_satisfy_the_schema(schema: dict[str, object], path: Path) -> None:
    jsonschema.validate(as_json(path), schema)


def test_schema_refuses_unknown_keys(schema: dict[str, object]) -> None:
    document = as_json(EXAMPLES[0])
    assert isinstance(document, dict)
    document["organisation"]["legal_fom"] = "umkm"
    with pytest.raises(jsonschema.ValidationError, match="legal_fom"):
        jsonschema.validate(document, schema)


def test_schema_can_be_written_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = CliRunner().invoke(app, ["manifest", "schema", "-o", str(target)])
    assert result.exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["$id"].endswith("manifest-1.json")
