"""Typed records without some of their fields: what an edition leaves out of a record it shows.

A field path names the keys a record's YAML writes, which are the fields of its
dataclass (``turns``, ``assessment.harm``); through a list it names every item's
field (``timeline.event``). :func:`without` gives the record with that field
empty (None, ``()`` or ``""``, as its type allows) and what was taken out of it,
so that the caller can say the field is not published and look for the taken
texts on the pages it builds. A path that names no field of the kind changes
nothing.

This is the one place outside the builder that looks at the shape of a typed
record; the site asks it instead of walking a record's fields itself.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, is_dataclass, replace
from typing import Any, TypeVar, get_args, get_origin

from incidentops.records.model import (
    Handoff,
    Incident,
    Postmortem,
    RegressionTest,
    Source,
    reads_as,
    written_fields,
)

T = TypeVar("T")

#: the record kinds whose fields the policy's ``public_edition.redact`` can name (``kind.field``)
REDACTABLE: dict[str, type[Any]] = {"regression": RegressionTest, "incident": Incident, "postmortem": Postmortem,
                                    "handoff": Handoff}


@dataclass(frozen=True)
class Cut:
    """What :func:`without` took out of a record."""

    #: a non-empty value was there (a ``false`` or a ``0`` counts; an absent or empty field does not)
    found: bool
    #: every text of the taken values, as the record writes it (a number or timestamp in its own spelling)
    texts: tuple[str, ...]


def without(record: T, path: Sequence[str]) -> tuple[T, Cut]:
    """``record`` with the field at ``path`` emptied, and what was taken out of it."""
    taken: list[tuple[Source | None, str, Any]] = []
    out = _cut(record, tuple(path), taken) if path else record
    texts = [text for source, name, value in taken for text in _texts(value, source, (name,))]
    return out, Cut(bool(taken), tuple(texts))


def shown(item: object, name: str) -> str | None:
    """The value of field ``name`` of a typed record (or list item) as its document writes it.

    None when the item holds no value there: the field is absent, empty, or an
    edition took it out (:func:`without`), whatever the document says. A value
    that differs from what the document writes (a figure an edition computed
    again) is its own text.
    """
    value = getattr(item, name)
    if _empty(value):
        return None
    source = getattr(item, "source", None)
    kind: Any = type(item)
    hint = written_fields(kind).get(name)
    if isinstance(source, Source) and hint is not None:
        path = (*source.prefix, name)
        written = source.doc.value(path)
        ok, typed = reads_as(hint, written, source.doc, path) if written is not None else (False, None)
        same = ok and typed == value
        if same:
            return str(written)
    return str(value)


def _cut(value: Any, path: tuple[str, ...], taken: list[tuple[Source | None, str, Any]]) -> Any:
    if isinstance(value, tuple):
        return tuple(_cut(item, path, taken) for item in value)
    if not is_dataclass(value) or isinstance(value, type):
        return value
    name, rest = path[0], path[1:]
    hint = written_fields(type(value)).get(name)
    if hint is None:
        return value
    current = getattr(value, name)
    if rest:
        return replace(value, **{name: _cut(current, rest, taken)})
    if not _empty(current):
        taken.append((getattr(value, "source", None), name, current))
    return replace(value, **{name: _empty_value(hint)})


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | tuple | Mapping) and not value)


def _empty_value(hint: Any) -> Any:
    origin = get_origin(hint)
    options = get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
    if type(None) in options:
        return None
    if any(get_origin(option) is tuple for option in options):
        return ()
    if any(get_origin(option) is Mapping for option in options):
        return types.MappingProxyType({})
    if str in options:
        return ""
    return None


def _texts(value: Any, source: Source | None, path: tuple[str | int, ...]) -> list[str]:
    """Every text of a taken value; ``path`` is where it stands below ``source``."""
    if is_dataclass(value) and not isinstance(value, type):
        inner = getattr(value, "source", None)
        return [text for name in written_fields(type(value)) for text in _texts(getattr(value, name), inner, (name,))]
    if isinstance(value, tuple):
        return [text for index, item in enumerate(value) for text in _texts(item, source, (*path, index))]
    if isinstance(value, Mapping):
        return [text for key, item in value.items() for text in _texts(item, source, (*path, str(key)))]
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value]
    written = source.doc.value((*source.prefix, *path)) if source is not None else None
    return [str(value if written is None else written)]


def fields_at(cls: type[Any], path: Sequence[str]) -> tuple[str, ...] | None:
    """The field names a path can go on with after ``path`` in records of ``cls`` (``()`` at a leaf).

    None when ``path`` names no field of ``cls``: through a list, it names its items' fields.
    """
    current: Any = cls
    for name in path:
        holder: Any = _item_type(current)
        if holder is None:
            return None
        hint = written_fields(holder).get(name)
        if hint is None:
            return None
        current = hint
    inner: Any = _item_type(current)
    return tuple(written_fields(inner)) if inner is not None else ()


def _item_type(hint: Any) -> type[Any] | None:
    """The dataclass a value of ``hint`` holds (itself, its items, or the non-None option); None for a leaf."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        found = [t for t in (_item_type(o) for o in get_args(hint) if o is not type(None)) if t is not None]
        return found[0] if found else None
    if origin is tuple:
        return _item_type(get_args(hint)[0])
    return hint if is_dataclass(hint) and isinstance(hint, type) else None


def entry_problem(entry: str) -> tuple[str, str] | None:
    """``(message, hint)`` when the ``kind.field`` entry names no field of its kind's records, else None."""
    kind, _, rest = entry.partition(".")
    cls = REDACTABLE.get(kind)
    if cls is None:
        return f"'{entry}' names no record kind", f"begin with one of: {', '.join(REDACTABLE)}"
    path = rest.split(".") if rest else []
    if fields_at(cls, path) is not None:
        return None
    known = 0
    while known < len(path) and fields_at(cls, path[: known + 1]) is not None:
        known += 1
    options = fields_at(cls, path[:known]) or ()
    where = ".".join([kind, *path[:known]])
    close = difflib.get_close_matches(path[known], options, n=1)
    hint = (f"did you mean {where}.{close[0]}? " if close else "") + (
        f"the fields of {where}: {', '.join(options)}" if options else f"{where} has no fields below it")
    if kind == "postmortem" and path[:1] == ["body"]:
        hint = "a postmortem's Markdown body is published whole or not at all: keep the incident internal"
    article = "an" if kind[0] in "aeiou" else "a"
    return f"'{entry}' names no field of {article} {kind} record", hint
