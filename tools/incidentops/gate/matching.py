"""Match the ids results report to the registry's test ids, forgiving the runners' naming conventions.

An id a result states outright (JSONL ``test_id``, a JUnit ``test_id`` property, Inspect
sample metadata, promptfoo test metadata) must equal a registry id, ignoring case. A
JUnit test named by its runner is searched for one:

- ids are compared without regard to case (``test_regression_inc_001``, PEP 8);
- every word of the ``name`` and then of the ``classname`` (words split at anything
  but letters, digits and ``_``) is tried, after a leading ``test``/``Test``/``test_``;
- a word matches the **longest** registry id it equals or starts with followed by
  ``_`` (``test_regression_INC_001_refuses_by_turn_3`` is ``regression_INC_001``,
  ``TestRegression_INC_001`` a class of its tests);
- a test whose words match two different ids is an error (exit 2), never a guess.

A result that matches nothing keeps its id and is reported as a result for an unknown
test, with "did you mean" for a near miss (also shown for the test it nearly matched).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from incidentops.gate.testresult import TestResult
from incidentops.records.errors import IncidentOpsError

_WORD = re.compile(r"[A-Za-z0-9_]+")
_DIGITS = re.compile(r"\d+")
_TEST_PREFIX = re.compile(r"^test_?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Matched:
    """Results with registry ids, and near misses: result id -> the registry id it nearly is."""

    results: list[TestResult]
    near: dict[str, str]


def _words(text: str) -> Iterable[str]:
    for word in _WORD.findall(text):
        yield word
        stripped = _TEST_PREFIX.sub("", word)
        if stripped and stripped != word:
            yield stripped


def _longest(word: str, known: dict[str, str]) -> str | None:
    lower = word.lower()
    best: str | None = None
    for key, test_id in known.items():
        if (lower == key or lower.startswith(key + "_")) and (best is None or len(key) > len(best.lower())):
            best = test_id
    return best


def _from_names(result: TestResult, known: dict[str, str]) -> str | None:
    found: dict[str, str] = {}
    for name in result.names:
        for word in _words(name):
            match = _longest(word, known)
            if match is not None:
                found.setdefault(match, name)
    if len(found) > 1:
        listed = ", ".join(f"{test_id} (from {name!r})" for test_id, name in found.items())
        raise IncidentOpsError(
            f"{result.source}: test {result.test_id!r} matches several regression tests: {listed}",
            "name each test after one regression id, or give it a test_id property "
            '(<property name="test_id" value="regression_INC_001"/>, pytest: record_property("test_id", ...))',
        )
    return next(iter(found), None)


def _near_miss(result: TestResult, known: dict[str, str]) -> str | None:
    words = [result.test_id, *(w for name in result.names for w in _words(name))]
    keys = list(known)
    for word in words:
        digits = _DIGITS.findall(word)
        # a near miss is a misspelling of the same id, never a neighbour with other numbers
        close = [k for k in difflib.get_close_matches(word.lower(), keys, n=3, cutoff=0.8) if _DIGITS.findall(k) == digits]
        if close:
            return known[close[0]]
    return None


def match_ids(results: Sequence[TestResult], test_ids: Iterable[str]) -> Matched:
    """``results`` with their ids resolved against the registry's ``test_ids`` (see the module doc)."""
    known = {test_id.lower(): test_id for test_id in test_ids}
    matched: list[TestResult] = []
    near: dict[str, str] = {}
    for result in results:
        test_id = _from_names(result, known) if result.names else None
        if test_id is None:
            test_id = known.get(result.test_id.lower())
        if test_id is None:
            guess = _near_miss(result, known)
            if guess is not None:
                near[result.test_id] = guess
            matched.append(result)
        elif test_id != result.test_id:
            matched.append(replace(result, test_id=test_id))
        else:
            matched.append(result)
    return Matched(matched, near)
