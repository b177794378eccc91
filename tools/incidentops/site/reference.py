"""The field reference: every field of every record schema, with its title and description.

One page per record kind (``reference/incident.md``...) and an index page that
lists them: a single page of every schema ran to tens of thousands of pixels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from incidentops.records.schemas import available, load_schema

ORDER = ("incident", "postmortem", "handoff", "regression", "audit", "review", "release", "scenario",
         "policy", "models")


@dataclass(frozen=True)
class Field:
    path: str
    depth: int
    title: str
    description: str
    type: str
    required: bool
    allowed: str


@dataclass(frozen=True)
class SchemaTable:
    name: str
    title: str
    description: str
    fields: list[Field]


def _type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        text = " or ".join(str(k) for k in kind)
    elif kind:
        text = str(kind)
    elif "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf") or []
        text = " or ".join(sorted({_type(o) for o in options if isinstance(o, Mapping)}))
    else:
        text = "any"
    if schema.get("format"):
        text += f" ({schema['format']})"
    return text


def _allowed(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return ", ".join("null" if v is None else str(v) for v in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    if "pattern" in schema:
        return f"pattern {schema['pattern']}"
    bounds = [f"{word} {schema[key]}" for key, word in (("minimum", "min"), ("maximum", "max")) if key in schema]
    return ", ".join(bounds)


def _walk(schema: Mapping[str, Any], prefix: str, depth: int, root: Mapping[str, Any]) -> Iterator[Field]:
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        sub = _resolve(sub, root)
        path = f"{prefix}{name}"
        yield Field(path, depth, str(sub.get("title", "")), str(sub.get("description", "")), _type(sub),
                    name in required, _allowed(sub))
        if sub.get("type") == "object" or "properties" in sub:
            yield from _walk(sub, path + ".", depth + 1, root)
        items = sub.get("items")
        if isinstance(items, Mapping):
            items = _resolve(items, root)
            if "properties" in items:
                yield from _walk(items, path + "[].", depth + 1, root)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        merged = dict(target) if isinstance(target, Mapping) else {}
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        return merged
    return schema


def kinds() -> list[str]:
    """The shipped schemas' names, record kinds first."""
    names = available()
    return [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]


def schema_table(name: str) -> SchemaTable | None:
    """The fields of one schema, or None when it is not shipped."""
    schema = load_schema(name)
    if schema is None:
        return None
    return SchemaTable(name, str(schema.get("title", name)), str(schema.get("description", "")),
                       list(_walk(schema, "", 0, schema)))


def schema_tables() -> list[SchemaTable]:
    """One table per shipped schema, record kinds first."""
    return [t for t in (schema_table(name) for name in kinds()) if t is not None]
