"""Safe YAML loading with positions, and front matter for Markdown records.

Records are not read with ``yaml.load``: they are built from PyYAML's nodes or
events, which lets one pass reject what a registry must never hold (anchors and
aliases, duplicate keys, several documents, absurd nesting), keep timestamps as
strings, flag YAML 1.1 surprises (``NO``, ``on``, ``017``) and remember where
every key and value starts, so that each finding points at ``path:line:col``.

Two readers give the same result. The fast one walks the node tree the C parser
composes; it handles a plain record (no anchor, alias or tag, no duplicate or
complex key, one document, shallow). Anything else is read again from the event
stream, which reports each of those problems where it occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from incidentops.records.findings import ERROR, WARNING, Finding

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader
try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _Parser = None  # type: ignore[assignment,misc]

MAX_BYTES = 1_000_000
MAX_DEPTH = 32

Path_ = tuple[str | int, ...]

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_YAML11_BOOLS = frozenset(
    v
    for w in ("yes", "no", "on", "off", "y", "n")
    for v in (w, w.capitalize(), w.upper())
)
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_YAML11_NUMBER = re.compile(r"[-+]?(?:0[0-7_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[0-9]+(?::[0-5]?[0-9])+)\Z")
# Every null, boolean (YAML 1.1 ones included) and number starts with one of these.
_RESOLVABLE_FIRST = frozenset("0123456789+-.~nNtTfFyYoO")
_SPECIAL_FLOATS = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}


@dataclass
class Document:
    """One parsed record: its data, where each part of it starts, and what went wrong."""

    path: str
    text: str = ""
    data: Any = None
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    body: str = ""
    body_line: int = 0

    @property
    def ok(self) -> bool:
        return self.data is not None and not any(f.is_error for f in self.findings)

    def where(self, path: Path_ = (), *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value (or key) at ``path``; the nearest parent if absent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))

    def value(self, path: Path_) -> Any:
        """The parsed value at ``path``; None when the document has no value there."""
        data = self.data
        for part in path:
            if isinstance(data, dict) and isinstance(part, str):
                data = data.get(part)
            elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
                data = data[part]
            else:
                return None
        return data

    def string(self, path: Path_) -> str | None:
        """The string at ``path`` as parsed, or None when there is none (absent, or not a string)."""
        found = self.value(path)
        return found if isinstance(found, str) else None

    def scalar(self, path: Path_) -> str | None:
        """The scalar at ``path`` as text (``5`` -> ``"5"``), or None when there is none (absent, a list or a mapping)."""
        found = self.value(path)
        return None if found is None or isinstance(found, dict | list) else str(found)

    def count(self, path: Path_) -> int:
        """How many items the list at ``path`` holds (0 when there is no list there)."""
        found = self.value(path)
        return len(found) if isinstance(found, list) else 0

    def finding(
        self, path: Path_, level: str, rule: str, message: str, hint: str = "", *, key: bool = False
    ) -> Finding:
        line, col = self.where(path, key=key)
        return Finding(self.path, line, col, level, rule, message, hint)


def _offset_position(text: str, index: int, line_offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line + line_offset, col


class _Builder:
    """Turns a PyYAML event stream into plain data plus position tables."""

    def __init__(self, doc: Document, line_offset: int) -> None:
        self.doc = doc
        self.offset = line_offset

    def pos(self, mark: Any) -> tuple[int, int]:
        return mark.line + 1 + self.offset, mark.column + 1

    def add(self, mark: Any, level: str, rule: str, message: str, hint: str = "") -> None:
        line, col = self.pos(mark)
        self.doc.findings.append(Finding(self.doc.path, line, col, level, rule, message, hint))

    def scalar(self, event: Any, path: Path_) -> Any:
        value: str = event.value
        if event.tag not in (None, "!", "tag:yaml.org,2002:str") and not (
            event.tag.startswith("tag:yaml.org,2002:") and event.tag[18:] in ("int", "float", "bool", "null")
        ):
            self.add(
                event.start_mark, ERROR, "yaml.tag", f"tag {event.tag!r} is not allowed in a record",
                "remove the tag; records hold plain strings, numbers, booleans, lists and mappings",
            )
            return value
        if event.style or event.tag == "tag:yaml.org,2002:str":
            return value  # quoted or explicitly a string
        if value and value[0] not in _RESOLVABLE_FIRST:
            return value  # no null, boolean or number starts with this character
        if value in _NULLS:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if value in _YAML11_BOOLS:
            self.add(
                event.start_mark, WARNING, "yaml.ambiguous-bool",
                f"{_label(path)}: unquoted {value!r} is read as a boolean by YAML 1.1 tools",
                f"quote it ('{value}') if you mean the word, or write true/false if you mean a boolean",
            )
            return value
        if _INT.match(value):
            return int(value.replace("_", ""))
        if _YAML11_NUMBER.match(value):
            self.add(
                event.start_mark, WARNING, "yaml.ambiguous-number",
                f"{_label(path)}: unquoted {value!r} is read as a number in another base by YAML 1.1 tools",
                f"quote it ('{value}') so every tool reads the same text",
            )
            return value
        if _FLOAT.match(value):
            return float(value)
        if value.lower() in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value.lower()]
        return value

    def build(self, events: Any) -> Any:
        """Build the single document from the iterator; returns its root value."""
        stack: list[tuple[Any, Path_, Any]] = []  # (container, path, pending key)
        root: Any = None
        depth = 0
        for event in events:
            kind = type(event)
            if kind in (yaml.StreamStartEvent, yaml.DocumentStartEvent):
                if kind is yaml.DocumentStartEvent and self.doc.values.get(("__doc__",)):
                    self.add(
                        event.start_mark, ERROR, "yaml.multi-document",
                        "this file holds more than one YAML document",
                        "keep one record per file; remove the '---' separator and move the rest to its own file",
                    )
                    return root
                continue
            if kind is yaml.DocumentEndEvent:
                self.doc.values[("__doc__",)] = (1, 1)
                continue
            if kind is yaml.StreamEndEvent:
                break
            if kind is yaml.AliasEvent:
                self.add(
                    event.start_mark, ERROR, "yaml.alias",
                    f"alias *{event.anchor} is not allowed in a record",
                    "write the value out in full; anchors and aliases are rejected so a record reads the same everywhere",
                )
                value: Any = None
                node_kind = "scalar"
            elif kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
                container, _, _ = stack.pop()
                depth -= 1
                if not stack:
                    root = container
                    continue
                value, node_kind = container, "done"
            else:
                if getattr(event, "anchor", None):
                    self.add(
                        event.start_mark, ERROR, "yaml.anchor",
                        f"anchor &{event.anchor} is not allowed in a record",
                        "remove the anchor and write values out in full",
                    )
                node_kind = "scalar" if kind is yaml.ScalarEvent else "open"
            parent = stack[-1] if stack else None
            if parent is not None:
                container, ppath, pending = parent
                if isinstance(container, dict) and pending is _NO_KEY and node_kind != "done":
                    # this node is a key
                    if node_kind != "scalar" or kind is yaml.AliasEvent:
                        self.add(
                            event.start_mark, ERROR, "yaml.complex-key",
                            "a mapping key must be a plain word", "use simple keys such as `severity:`",
                        )
                        if node_kind == "open":
                            return None
                        stack[-1] = (container, ppath, "\x00invalid")
                        continue
                    key = event.value
                    kpath = (*ppath, key)
                    if key in container:
                        first = self.doc.keys.get(kpath, (0, 0))[0]
                        self.add(
                            event.start_mark, ERROR, "yaml.duplicate-key",
                            f"duplicate key {key!r} in {_label(ppath) if ppath else 'the record'}",
                            f"it is already set on line {first}; keep one of them (YAML tools silently keep the last)",
                        )
                    self.doc.keys[kpath] = self.pos(event.start_mark)
                    stack[-1] = (container, ppath, key)
                    continue
                here: Path_ = (*ppath, pending) if isinstance(container, dict) else (*ppath, len(container))
            else:
                here = ()
            if node_kind == "scalar":
                value = None if kind is yaml.AliasEvent else self.scalar(event, here)
                self.doc.values[here] = self.pos(event.start_mark)
            elif node_kind == "open":
                depth += 1
                if depth > MAX_DEPTH:
                    self.add(
                        event.start_mark, ERROR, "yaml.too-deep",
                        f"nesting deeper than {MAX_DEPTH} levels",
                        "records are shallow; flatten this structure",
                    )
                    return None
                self.doc.values[here] = self.pos(event.start_mark)
                new: Any = {} if kind is yaml.MappingStartEvent else []
                stack.append((new, here, _NO_KEY))
                continue
            if parent is None:
                root = value
                continue
            container, ppath, pending = stack[-1]
            if isinstance(container, dict):
                if pending != "\x00invalid":
                    container[pending] = value
                stack[-1] = (container, ppath, _NO_KEY)
            else:
                container.append(value)
        return root


# Where an anchor (&a), an alias (*a) or a tag (!t, !!t) could start a token: such a
# record is read from the event stream, which reports them. Conservative on purpose
# (an "&x" or "!" inside a quoted string also takes the event path).
_EVENTS_NEEDED = re.compile(r"(?<![^\s\[\]{},:?-])(?:[&*]\S|!)")


class _NotPlain(Exception):
    """The fast reader met something only the event reader reports exactly."""


if _Parser is not None:

    class _Composer(_Parser):
        """The C composer without tag resolution: values are resolved by ``_Builder.scalar``."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> None:
            return None

        def descend_resolver(self, parent: Any, index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None


class _NodeReader(_Builder):
    """Builds data and positions from the C parser's node tree (plain records only)."""

    def read(self, node: Any, here: Path_, depth: int) -> Any:
        mark = node.start_mark
        self.doc.values[here] = (mark.line + 1 + self.offset, mark.column + 1)
        kind = type(node)
        if kind is yaml.ScalarNode:
            return self.scalar(node, here)
        if depth >= MAX_DEPTH:
            raise _NotPlain
        if kind is yaml.MappingNode:
            out: dict[str, Any] = {}
            keys = self.doc.keys
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode:
                    raise _NotPlain
                key = key_node.value
                if key in out:
                    raise _NotPlain
                kpath = (*here, key)
                kmark = key_node.start_mark
                keys[kpath] = (kmark.line + 1 + self.offset, kmark.column + 1)
                out[key] = self.read(value_node, kpath, depth + 1)
            return out
        return [self.read(item, (*here, index), depth + 1) for index, item in enumerate(node.value)]


def _read_nodes(text: str, doc: Document, line_offset: int) -> tuple[bool, Any]:
    """(True, data) when the fast reader handled ``text``; (False, None) to use the event reader."""
    if _Parser is None or (("&" in text or "*" in text or "!" in text) and _EVENTS_NEEDED.search(text)):
        return False, None
    trial = Document(doc.path)
    try:
        parser = _Composer(text)
        node = parser.get_node() if parser.check_node() else None
        if type(node) is not yaml.MappingNode or parser.check_node():
            return False, None
        data = _NodeReader(trial, line_offset).read(node, (), 1)
    except (_NotPlain, yaml.YAMLError, RecursionError):
        return False, None
    doc.values.update(trial.values)
    doc.keys.update(trial.keys)
    doc.findings.extend(trial.findings)
    return True, data


_NO_KEY: Any = object()


def _label(path: Path_) -> str:
    """`escalations[0].team` style label for a position in a record."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "record"


label = _label


def _decode(raw: bytes, doc: Document) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        doc.findings.append(
            Finding(doc.path, 1, 1, ERROR, "yaml.bom", "the file starts with a byte-order mark",
                    "save the file as UTF-8 without BOM")
        )
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8", errors="replace")
        line, col = _offset_position(good, len(good), 0)
        doc.findings.append(
            Finding(doc.path, line, col, ERROR, "yaml.encoding",
                    f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                    "save the file as UTF-8 (records are UTF-8 text)")
        )
        return None


def _check_tabs(text: str, doc: Document, line_offset: int) -> bool:
    if "\t" not in text:
        return False
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            doc.findings.append(
                Finding(doc.path, number + line_offset, len(line) - len(stripped) + 1, ERROR, "yaml.tab",
                        "a tab is used for indentation", "YAML indents with spaces only; replace the tab with spaces")
            )
            return True
    return False


def parse_yaml_text(text: str, doc: Document, line_offset: int = 0) -> Any:
    """Parse ``text`` into ``doc`` (data and positions); problems become findings."""
    if _check_tabs(text, doc, line_offset):
        return None
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        doc.findings.append(
            Finding(doc.path, 1 + line_offset, 1, ERROR, "yaml.empty", "the record is empty",
                    "fill in the fields; `incidentops new` scaffolds a record with every required field")
        )
        return None
    handled, data = _read_nodes(text, doc, line_offset)
    if handled:
        return data
    builder = _Builder(doc, line_offset)
    try:
        data = builder.build(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1 + line_offset, mark.column + 1) if mark else (1 + line_offset, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        hint = "check indentation and quoting here"
        rule = "yaml.syntax"
        if "nesting depth" in problem:
            rule, hint = "yaml.too-deep", "records are shallow; flatten this structure"
        elif "mapping values are not allowed" in problem:
            hint = "a value containing ': ' must be quoted"
        elif "found character '\\t'" in problem or "'\\t'" in problem:
            hint = "YAML indents with spaces only"
        doc.findings.append(Finding(doc.path, line, col, ERROR, rule, f"YAML syntax error: {problem}", hint))
        return None
    except yaml.YAMLError as exc:
        doc.findings.append(Finding(doc.path, 1 + line_offset, 1, ERROR, "yaml.syntax", f"YAML error: {exc}", ""))
        return None
    except RecursionError:
        doc.findings.append(
            Finding(doc.path, 1 + line_offset, 1, ERROR, "yaml.too-deep", "nesting is too deep", "flatten this structure")
        )
        return None
    doc.values.pop(("__doc__",), None)
    if data is None and not any(f.is_error for f in doc.findings):
        doc.findings.append(
            Finding(doc.path, 1 + line_offset, 1, ERROR, "yaml.empty", "the record is empty", "fill in the fields")
        )
    elif data is not None and not isinstance(data, dict):
        doc.findings.append(
            Finding(doc.path, 1 + line_offset, 1, ERROR, "yaml.not-a-mapping",
                    f"the record is a {type(data).__name__}, not a mapping of fields",
                    "a record is a set of `key: value` lines")
        )
        return None
    return data


def load_bytes(raw: bytes, path: str, *, markdown: bool = False) -> Document:
    """Parse one record file's bytes. Never raises for bad content: see ``doc.findings``."""
    doc = Document(path)
    if len(raw) > MAX_BYTES:
        doc.findings.append(
            Finding(path, 1, 1, ERROR, "yaml.too-large",
                    f"the file is {len(raw):,} bytes, over the {MAX_BYTES:,}-byte cap for a record",
                    "keep evidence and logs outside the registry and link to them")
        )
        return doc
    text = _decode(raw, doc)
    if text is None:
        return doc
    doc.text = text
    if not markdown:
        doc.data = parse_yaml_text(text, doc)
        return doc
    front, offset = split_front_matter(text, doc)
    if front is not None:
        doc.data = parse_yaml_text(front, doc, offset)
    return doc


def split_front_matter(text: str, doc: Document) -> tuple[str | None, int]:
    """Return (front matter text, line offset) and set ``doc.body``; findings when absent/unclosed."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != "---":
        doc.findings.append(
            Finding(doc.path, 1, 1, ERROR, "frontmatter.missing", "the postmortem has no YAML front matter",
                    "start the file with a line '---', the fields (incident, status, ...), and a closing '---'")
        )
        return None, 0
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") in ("---", "..."):
            doc.body = "\n".join(lines[index + 1 :])
            doc.body_line = index + 2
            return "\n".join(lines[1:index]), 1
    doc.findings.append(
        Finding(doc.path, 1, 1, ERROR, "frontmatter.unclosed", "the front matter opened here is never closed",
                "add a line '---' after the last field, before the Markdown text")
    )
    return None, 0
