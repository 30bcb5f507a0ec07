"""Read a manifest from YAML, keeping where each value was written so errors can point at it."""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Final

import yaml
from pydantic import BaseModel, ValidationError

from jagadata.i18n import N_, gettext
from jagadata.manifest.errors import ManifestError, ManifestInvalid, Path, format_path
from jagadata.manifest.schema import Manifest

Position = tuple[int, int]  # 1-based line and column


@dataclass(frozen=True)
class SourceMap:
    """Where each path of the manifest was written: the key's position and the value's."""

    file: str
    keys: dict[Path, Position]
    values: dict[Path, Position]

    def locate(self, path: Path, *, at_key: bool = False) -> Position | None:
        """Position of `path`, or of its nearest written ancestor."""
        probe = tuple(path)
        while True:
            table = self.keys if at_key else self.values
            found = table.get(probe) or self.keys.get(probe) or self.values.get(probe)
            if found:
                return found
            if not probe:
                return None
            probe = probe[:-1]


@dataclass(frozen=True)
class LoadedManifest:
    manifest: Manifest
    source: SourceMap
    text: str
    content_hash: str

    @property
    def file(self) -> str:
        return self.source.file


def load_manifest(path: str | FsPath, *, lang: str = "en") -> LoadedManifest:
    """Read and validate a manifest file; raises ManifestInvalid listing every problem."""
    file = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestInvalid(
            [
                ManifestError(
                    (),
                    _t(lang, "file not found"),
                    file=file,
                    hint=_t(lang, "check the path, or create one with `jagadata init`"),
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestInvalid(
            [
                ManifestError(
                    (),
                    _t(lang, "cannot read the file: {reason}").format(
                        reason=exc.__class__.__name__
                    ),
                    file=file,
                    hint=_t(lang, "the manifest must be a UTF-8 text file"),
                )
            ]
        ) from None
    return load_manifest_text(text, file=file, lang=lang)


def load_manifest_text(text: str, *, file: str = "<manifest>", lang: str = "en") -> LoadedManifest:
    raw, source = parse_yaml(text, file=file, lang=lang)
    errors: list[ManifestError] = []
    if not isinstance(raw, dict):
        raise ManifestInvalid(
            [
                ManifestError(
                    (),
                    _t(lang, "the manifest must be a mapping of keys to values"),
                    expected=_t(lang, "keys such as 'jagadata:', 'organisation:'"),
                    hint=_t(lang, "start from `jagadata init` or an example in examples/"),
                    file=file,
                    line=1,
                    column=1,
                )
            ]
        )
    manifest: Manifest | None = None
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        errors.extend(_from_validation_error(exc, raw, source, lang))
    errors.extend(check_references(raw, source, lang))
    if errors or manifest is None:
        errors.sort(key=lambda e: (e.line or 0, e.column or 0, e.field_path))
        raise ManifestInvalid(_dedupe(errors))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedManifest(manifest=manifest, source=source, text=text, content_hash=digest)


def parse_yaml(text: str, *, file: str, lang: str = "en") -> tuple[Any, SourceMap]:
    """Parse YAML 1.2-style (only true/false are booleans, so country NO stays 'NO') with
    libyaml's C parser where available, recording where each key and value was written."""
    loader = _ManifestLoader(text)
    keys: dict[Path, Position] = {}
    values: dict[Path, Position] = {}
    try:
        node = loader.get_single_node()
        plain = None if node is None else _construct(loader, node, (), keys, values)
    except _DuplicateKey as duplicate:
        raise ManifestInvalid(
            [_syntax_error(duplicate.problem, duplicate.mark, file, lang)]
        ) from None
    except yaml.MarkedYAMLError as exc:
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise ManifestInvalid(
            [_syntax_error(problem, exc.problem_mark or exc.context_mark, file, lang)]
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestInvalid([_syntax_error(str(exc), None, file, lang)]) from None
    finally:
        loader.dispose()
    return plain, SourceMap(file=file, keys=keys, values=values)


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loading with YAML 1.2 booleans: 'yes', 'no', 'on', 'off' stay text."""


_ManifestLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_ManifestLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _DuplicateKey(Exception):
    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.mark = problem, mark


def _syntax_error(problem: str, mark: Any, file: str, lang: str) -> ManifestError:
    return ManifestError(
        (),
        _t(lang, "YAML syntax error: {problem}").format(problem=problem),
        hint=_yaml_hint(problem, lang),
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def _position(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(
    loader: Any,
    node: yaml.Node,
    path: Path,
    keys: dict[Path, Position],
    values: dict[Path, Position],
) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            name = str(loader.construct_object(key_node, deep=True))
            if name in result:
                raise _DuplicateKey(f'found duplicate key "{name}"', key_node.start_mark)
            child = (*path, name)
            keys[child] = _position(key_node)
            values[child] = _position(value_node)
            result[name] = _construct(loader, value_node, child, keys, values)
        return result
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for index, item_node in enumerate(node.value):
            child = (*path, index)
            keys[child] = values[child] = _position(item_node)
            items.append(_construct(loader, item_node, child, keys, values))
        return items
    value = loader.construct_object(node, deep=True)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _yaml_hint(problem: str, lang: str) -> str:
    if "tab" in problem:
        return _t(lang, "indent with spaces, not tabs")
    if "duplicate key" in problem:
        return _t(lang, "each key may appear only once in a mapping; merge the two entries")
    if "mapping values" in problem:
        return _t(lang, "put a space after ':' and quote values that contain ': '")
    return _t(lang, "check the indentation and the quoting around this line")


# --- turning pydantic's errors into ours ----------------------------------------------------


def _data_path(loc: tuple[Any, ...], raw: Any) -> tuple[Path, Path]:
    """Split pydantic's loc into the part present in the data and the rest (a missing key)."""
    path: list[str | int] = []
    node = raw
    rest: list[str | int] = []
    for index, part in enumerate(loc):
        in_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_tag(part):
            rest = [p for p in loc[index:] if isinstance(p, int) or not _is_tag(p)]
            break
    return tuple(path), tuple(rest)


def _is_tag(part: Any) -> bool:
    """pydantic inserts union members and validator names into loc: 'function-plain[...]'."""
    return isinstance(part, str) and (
        "[" in part
        or part in {"str", "int", "bool"}
        or part.startswith(("literal", "function", "enum"))
    )


def _from_validation_error(
    exc: ValidationError, raw: Any, source: SourceMap, lang: str
) -> Iterator[ManifestError]:
    seen_union: set[Path] = set()
    for error in exc.errors(include_url=False):
        path, rest = _data_path(tuple(error["loc"]), raw)
        kind = error["type"]
        if kind == "extra_forbidden":
            key = path[-1] if path else "?"
            allowed = sorted(_allowed_keys(path[:-1]))
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = (
                _t(lang, "did you mean '{name}'?").format(name=close[0])
                if close
                else _t(lang, "allowed keys here: {keys}").format(keys=", ".join(allowed))
            )
            yield _located(
                path,
                source,
                lang,
                at_key=True,
                message=_t(lang, "unknown key '{key}'").format(key=key),
                expected=_t(lang, "one of: {keys}").format(keys=", ".join(allowed)),
                hint=hint,
            )
            continue
        if kind == "missing":
            missing = (*path, *rest)
            name = rest[0] if rest else (path[-1] if path else "?")
            description = _field_description(missing)
            yield _located(
                path,
                source,
                lang,
                at_key=True,
                report_path=missing,
                message=_t(lang, "missing required key '{key}'").format(key=name),
                expected=description,
                hint=_t(lang, "add '{key}:' here; see docs/manifest.md").format(key=name),
            )
            continue
        if path in seen_union:
            continue  # a union reports once per member; one message is enough
        seen_union.add(path)
        value = _value_at(raw, path)
        message, expected, advice = _describe(error, value, path, lang)
        yield _located(path, source, lang, message=message, expected=expected, hint=advice)


def _describe(error: Any, value: Any, path: Path, lang: str) -> tuple[str, str | None, str | None]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    if kind in {"enum", "literal_error"}:
        expected_text = str(ctx.get("expected", ""))
        options = [o.strip().strip("'") for o in expected_text.replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        return (
            _t(lang, "{value} is not allowed here").format(value=shown),
            _t(lang, "one of: {options}").format(options=", ".join(o for o in options if o)),
            _t(lang, "did you mean '{name}'?").format(name=close[0]) if close else None,
        )
    if kind == "value_error":
        reason = str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
        return _t(lang, reason), None, None  # a validator's msgid, in the reader's language
    if kind in {"list_type", "dict_type", "model_type", "model_attributes_type"}:
        wanted = {
            "list_type": _t(lang, "a list (items starting with '- ')"),
            "dict_type": _t(lang, "a mapping of keys to values"),
            "model_type": _t(lang, "a mapping of keys to values"),
            "model_attributes_type": _t(lang, "a mapping of keys to values"),
        }[kind]
        return (
            _t(lang, "wrong kind of value: {value}").format(value=shown),
            wanted,
            _t(lang, "check the indentation under this key"),
        )
    if kind in {"too_short"}:
        return (_t(lang, "this list must not be empty"), _t(lang, "at least one item"), None)
    if kind in {
        "string_type",
        "int_type",
        "int_parsing",
        "bool_type",
        "bool_parsing",
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "float_type",
    }:
        wanted = {
            "string_type": _t(lang, "text"),
            "int_type": _t(lang, "a whole number"),
            "int_parsing": _t(lang, "a whole number"),
            "bool_type": _t(lang, "true or false"),
            "bool_parsing": _t(lang, "true or false"),
            "float_type": _t(lang, "a number"),
        }.get(kind, _t(lang, "a date as YYYY-MM-DD"))
        return (_t(lang, "wrong kind of value: {value}").format(value=shown), wanted, None)
    if kind == "string_pattern_mismatch":
        return (
            _t(lang, "{value} is not written as expected").format(value=shown),
            _pattern_expectation(path, lang),
            None,
        )
    if kind in {"greater_than_equal", "less_than_equal"}:
        return (_t(lang, "{value} is out of range").format(value=shown), error["msg"], None)
    return (error["msg"], None, None)


def _pattern_expectation(path: Path, lang: str) -> str:
    last = path[-1] if path else ""
    if last == "slug":
        return _t(lang, "lower-case letters, digits and '-', e.g. 'la-gelato-academy'")
    if last in {"countries"} or (len(path) >= 2 and path[-2] == "countries"):
        return _t(lang, "a two-letter ISO country code in capitals, e.g. ID, SG, US")
    return _t(
        lang, "lower-case letters, digits and '_', starting with a letter, e.g. 'order_history'"
    )


def _located(
    path: Path,
    source: SourceMap,
    lang: str,
    *,
    message: str,
    expected: str | None = None,
    hint: str | None = None,
    at_key: bool = False,
    report_path: Path | None = None,
) -> ManifestError:
    position = source.locate(path, at_key=at_key)
    return ManifestError(
        path=report_path if report_path is not None else path,
        message=message,
        expected=expected,
        hint=hint,
        file=source.file,
        line=position[0] if position else None,
        column=position[1] if position else None,
    )


def _value_at(raw: Any, path: Path) -> Any:
    node = raw
    for part in path:
        node = node[part]
    return node


def _model_at(path: Path) -> type[BaseModel] | None:
    """The manifest model class that validates the mapping at `path`."""
    current: Any = Manifest
    for part in path:
        if isinstance(part, int):
            current = _item_type(current)
            continue
        model = _as_model(current)
        if model is None or part not in model.model_fields:
            return None
        current = model.model_fields[part].annotation
    return _as_model(current)


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _as_model(arg)
        if found is not None:
            return found
    return None


def _item_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return typing.get_args(annotation)[0]
    if origin is typing.Annotated:
        return _item_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if typing.get_origin(arg) in (list, tuple):
                return typing.get_args(arg)[0]
    return annotation


def _allowed_keys(path: Path) -> set[str]:
    model = _model_at(path)
    return set(model.model_fields) if model else set()


def _field_description(path: Path) -> str | None:
    model = _model_at(path[:-1])
    if model is None or not path or not isinstance(path[-1], str):
        return None
    info = model.model_fields.get(path[-1])
    return info.description if info else None


# --- references between entries -------------------------------------------------------------

_REFERENCE_FIELDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # (path to a list of entries, field in each entry, kind of id it refers to)
    (("purposes",), "categories", "category"),
    (("purposes",), "subjects", "subject"),
    (("purposes",), "recipients", "recipient"),
    (("data", "categories"), "subjects", "subject"),
    (("recipients",), "categories", "category"),
    (("transfers",), "recipient", "recipient"),
    (("retention",), "categories", "category"),
    (("cookies",), "recipient", "recipient"),
    (("cookies",), "purpose_ref", "purpose"),
    (("systems",), "categories", "category"),
    (("systems",), "recipient", "recipient"),
)
_KIND_LABELS: Final = (N_("category"), N_("subject"), N_("recipient"), N_("purpose"))
_ID_LISTS: dict[str, tuple[str, ...]] = {
    "category": ("data", "categories"),
    "subject": ("data_subjects",),
    "recipient": ("recipients",),
    "purpose": ("purposes",),
}
_UNIQUE_LISTS: tuple[tuple[str, ...], ...] = (
    ("data", "categories"),
    ("data", "not_collected"),
    ("data_subjects",),
    ("purposes",),
    ("recipients",),
    ("retention",),
    ("systems",),
    ("rights", "identifiers"),
)


def _entries(raw: Any, path: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    node = raw
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return []
    return [(i, item) for i, item in enumerate(node) if isinstance(item, dict)]


def check_references(raw: dict[str, Any], source: SourceMap, lang: str) -> list[ManifestError]:
    """Every id an entry refers to must exist; ids in one list must be unique."""
    errors: list[ManifestError] = []
    known: dict[str, list[str]] = {
        kind: [str(e["id"]) for _, e in _entries(raw, path) if isinstance(e.get("id"), str)]
        for kind, path in _ID_LISTS.items()
    }
    for list_path in _UNIQUE_LISTS:
        first_seen: dict[str, int] = {}
        for index, entry in _entries(raw, list_path):
            entry_id = entry.get("id")
            if not isinstance(entry_id, str):
                continue
            if entry_id in first_seen:
                errors.append(
                    _located(
                        (*list_path, index, "id"),
                        source,
                        lang,
                        message=_t(lang, "id '{id}' is used twice").format(id=entry_id),
                        expected=_t(lang, "a unique id in this list"),
                        hint=_t(lang, "the first use is at {path}").format(
                            path=format_path((*list_path, first_seen[entry_id]))
                        ),
                    )
                )
            else:
                first_seen[entry_id] = index
    for list_path, field_name, kind in _REFERENCE_FIELDS:
        for index, entry in _entries(raw, list_path):
            value = entry.get(field_name)
            refs = value if isinstance(value, list) else [value] if value is not None else []
            for ref_index, ref in enumerate(refs):
                if not isinstance(ref, str) or ref in known[kind]:
                    continue
                where: Path = (*list_path, index, field_name)
                if isinstance(value, list):
                    where = (*where, ref_index)
                close = difflib.get_close_matches(ref, known[kind], n=1, cutoff=0.6)
                errors.append(
                    _located(
                        where,
                        source,
                        lang,
                        message=_t(lang, "unknown {kind} '{ref}'").format(
                            kind=_t(lang, kind), ref=ref
                        ),
                        expected=_t(lang, "an id declared under {path}").format(
                            path=format_path(_ID_LISTS[kind])
                        ),
                        hint=(
                            _t(lang, "did you mean '{name}'?").format(name=close[0])
                            if close
                            else _t(lang, "declared ids: {ids}").format(
                                ids=", ".join(known[kind]) or "—"
                            )
                        ),
                    )
                )
    return errors


def _dedupe(errors: list[ManifestError]) -> list[ManifestError]:
    seen: set[tuple[str, str]] = set()
    unique: list[ManifestError] = []
    for error in errors:
        key = (error.field_path, error.message)
        if key not in seen:
            seen.add(key)
            unique.append(error)
    return unique


def _t(lang: str, message: str) -> str:
    return gettext(lang, message)
