"""Writing YAML scalars by hand for generated records: plain when unambiguous, quoted otherwise."""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _.,()/'+-]*")
_RESERVED = frozenset(
    w.casefold() for w in ("yes", "no", "on", "off", "y", "n", "true", "false", "null", "nan", "inf")
)


def scalar(value: object) -> str:
    """``value`` as a YAML scalar that reads back as the same string, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and not text.endswith(" ")
        and "  " not in text
        and text.casefold() not in _RESERVED
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def quoted(value: str) -> str:
    """Always double-quoted (timestamps and dates, which records keep as quoted strings)."""
    return json.dumps(value, ensure_ascii=False)
