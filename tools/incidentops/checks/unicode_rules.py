"""Characters that make a record read differently from what it says (the "Trojan Source" class).

- ``text.bidi-control`` (error): a Unicode bidirectional control (U+202A..U+202E embeddings and
  overrides, U+2066..U+2069 isolates, U+200E/U+200F/U+061C marks). It reorders what a reviewer
  sees on screen, so a reason, a turn or an id can display as something else than it is.
- ``text.invisible`` (error): a character that shows as nothing: zero-width space U+200B, word
  joiner and invisible operators U+2060..U+2064, U+FEFF inside the text, U+180E, soft hyphen
  U+00AD, Hangul fillers, and the tag characters U+E0000..U+E007F (invisible text). A zero-width
  joiner or non-joiner (U+200D, U+200C) is allowed between two letters of the scripts that
  need it (Persian, Indic, emoji sequences) and refused next to ASCII, where it only hides.

Every record file is read (YAML and Markdown); each finding names the code point and
points at it. The YAML loader already refuses other control characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from incidentops.records.findings import ERROR, Finding
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

BIDI = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
INVISIBLE = frozenset([0x00AD, 0x115F, 0x1160, 0x180E, 0x200B, *range(0x2060, 0x2065), 0x3164, 0xFEFF,
                       0xFFA0, *range(0xE0000, 0xE0080)])
JOINERS = frozenset([0x200C, 0x200D])
_SUSPECT = BIDI | INVISIBLE | JOINERS


def _name(code: int) -> str:
    return unicodedata.name(chr(code), "TAG CHARACTER" if 0xE0000 <= code <= 0xE007F else "unnamed")


def _joiner_hides(line: str, index: int) -> bool:
    """A ZWJ/ZWNJ only hides something next to ASCII (or at the edge of the text)."""
    before = line[index - 1] if index > 0 else ""
    after = line[index + 1] if index + 1 < len(line) else ""
    return not before or not after or before.isascii() or after.isascii()


def unicode_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    text = doc.text
    if text.isascii():
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if line.isascii():
            continue
        for index, char in enumerate(line):
            code = ord(char)
            if code not in _SUSPECT or (number == 1 and index == 0 and code == 0xFEFF):
                continue  # a BOM is the loader's finding
            if code in JOINERS and not _joiner_hides(line, index):
                continue
            bidi = code in BIDI
            yield Finding(
                path, number, index + 1, ERROR, "text.bidi-control" if bidi else "text.invisible",
                f"U+{code:04X} {_name(code)}: " + (
                    "a bidirectional control reorders how the text is shown, so reviewers read something"
                    " else than what the record says" if bidi else
                    "an invisible character: the text holds something reviewers cannot see"),
                f"delete the character (in most editors: move past it with the arrow keys; `grep -nP"
                f" '\\x{{{code:04X}}}'` finds it)",
            )


RULES = {"*": [unicode_rule]}
