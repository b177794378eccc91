"""Helpers that let the text checks skip work a regex would do for nothing.

Both keep results identical to a plain ``pattern.finditer(text)``; they only avoid
trying a pattern where it cannot match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# The non-ASCII characters that IGNORECASE matches to an ASCII letter (İ ı ſ and the
# Kelvin sign). Folding them keeps the text's length, so offsets stay valid.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def folded(text: str) -> str:
    """``text`` in lower case, same length, in which every IGNORECASE match of an ASCII
    word is a plain substring (so ``word in folded(text)`` is a sound prefilter)."""
    return text.lower() if text.isascii() else text.translate(_FOLD).lower()


def has_any(text: str, words: Iterable[str]) -> bool:
    """True when one of ``words`` occurs in ``text``."""
    return any(word in text for word in words)


def finditer_from(pattern: re.Pattern[str], text: str, folded_text: str, words: Iterable[str]) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` for a pattern whose every match starts with one of ``words``
    (lower case, matched in any case): it is tried only where one of them occurs."""
    starts: set[int] = set()
    for word in words:
        index = folded_text.find(word)
        while index >= 0:
            starts.add(index)
            index = folded_text.find(word, index + 1)
    end = 0
    for start in sorted(starts):
        if start < end:
            continue
        match = pattern.match(text, start)
        if match is not None:
            end = match.end()
            yield match
