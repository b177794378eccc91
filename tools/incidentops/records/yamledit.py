"""Round-trip edits of records that keep the user's comments, key order and quoting."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import write_text_atomic
from incidentops.records.yamlio import load_bytes


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _detect_indent(text: str) -> tuple[int, int]:
    """(sequence indent, dash offset) used by the file, so edits keep its layout."""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if stripped.startswith("- "):
            offset = len(line) - len(stripped)
            if offset:
                return offset + 2, offset
            return 2, 0
    return 4, 2


def edit_text(text: str, mutate: Callable[[CommentedMap], None], path: str = "record") -> str:
    """Apply ``mutate`` to the parsed mapping of ``text`` and return the new text."""
    yaml = _yaml()
    seq, offset = _detect_indent(text)
    yaml.indent(mapping=2, sequence=seq, offset=offset)
    try:
        data = yaml.load(text)
    except Exception as exc:  # ruamel raises many types; the file was validated before
        raise IncidentOpsError(f"{path}: cannot edit: {exc}", "run `incidentops check` and fix the file first") from None
    if not isinstance(data, CommentedMap):
        raise IncidentOpsError(f"{path}: not a mapping of fields", "run `incidentops check`")
    mutate(data)
    out = io.StringIO()
    yaml.dump(data, out)
    new = out.getvalue()
    check = load_bytes(new.encode("utf-8"), path)
    if any(f.is_error for f in check.findings):  # never write what we could not read back
        first = next(f for f in check.findings if f.is_error)
        raise IncidentOpsError(f"{path}: the edit would produce an unreadable record ({first.message})")
    return new


def edit_file(path: Path, mutate: Callable[[CommentedMap], None], display: str | None = None) -> str:
    """Edit a YAML record in place, atomically; returns the new text."""
    text = path.read_text(encoding="utf-8")
    new = edit_text(text, mutate, display or str(path))
    write_text_atomic(path, new)
    return new


def edit_front_matter(path: Path, mutate: Callable[[CommentedMap], None], display: str | None = None) -> str:
    """Edit the YAML front matter of a Markdown record in place, keeping the body untouched."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise IncidentOpsError(f"{display or path}: no front matter to edit")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise IncidentOpsError(f"{display or path}: the front matter is never closed") from None
    front = "\n".join(lines[1:end]) + "\n"
    new_front = edit_text(front, mutate, display or str(path))
    new = "---\n" + new_front + "\n".join(lines[end:])
    write_text_atomic(path, new)
    return new


def as_plain(value: Any) -> Any:
    """ruamel containers to plain dicts and lists."""
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    return value


def append_item(seq_holder: CommentedMap, key: str, item: dict[str, Any]) -> None:
    """Append a mapping to the list at ``key`` (created when absent)."""
    if key not in seq_holder or seq_holder[key] is None:
        seq_holder[key] = CommentedSeq()
    seq_holder[key].append(CommentedMap(item))


def mapping_at(holder: CommentedMap, key: str, before: str | None = None) -> CommentedMap:
    """The mapping at ``key``; an absent, null or non-mapping value becomes an empty one, placed before ``before``."""
    found = holder.get(key)
    if isinstance(found, CommentedMap):
        return found
    block = CommentedMap()
    if key in holder:
        holder[key] = block
    else:
        keys = list(holder.keys())
        holder.insert(keys.index(before) if before in keys else len(keys), key, block)
    return block
