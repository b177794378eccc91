"""One test's result as read from a results file, and what a results reader is.

A reader is one module of this package defining ``READER``: its name, the file
name suffixes it claims, a ``sniff`` of the first bytes for files whose suffix
says nothing, and ``parse``, which turns a :class:`ResultsSource` into results.
``results.READERS`` lists them. A reader refuses (raises ``IncidentOpsError``
naming ``path:line``) every shape it does not positively understand: an unknown
element, field or status value is an error, never a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

PASS = "pass"
FAIL = "fail"
ERROR = "error"
SKIP = "skip"
OUTCOMES = (PASS, FAIL, ERROR, SKIP)

# When several results name the same test, the worst outcome wins: a failure
# (the model let the attack through) outranks an error (the run broke), which
# outranks a skip, which outranks a pass.
OUTCOME_RANK = {PASS: 0, SKIP: 1, ERROR: 2, FAIL: 3}

REGRESSION_ID = re.compile(r"regression_[A-Za-z0-9_]+")

MAX_MESSAGE = 500

#: results one file may hold: keeps memory bounded whatever a file packs into the size cap
MAX_RESULTS = 200_000


@dataclass(frozen=True, slots=True)
class TestResult:
    """The result of one regression test in one run (or the combination of several).

    ``outcome`` is ``pass``, ``fail``, ``error`` or ``skip``. ``blocked_at_turn`` is the
    1-based user turn at which the model refused, when the runner reports it. ``runs`` and
    ``passes`` count repeated runs when the runner reports them (``None`` otherwise).
    ``source`` is where the result was read: ``path:line`` in JSONL, ``path:line:col``
    of the ``<testcase>`` in XML (pytest writes its whole report on one line).

    ``model`` names the model or provider the run tested, when the runner says so;
    ``check`` names what was checked (an Inspect scorer, a promptfoo prompt, a JUnit
    ``classname::name``): results are repeated runs of one another only when test id,
    check and model are all the same. ``names`` are the runner's own names for the
    test (JUnit ``name`` and ``classname``), matched against the registry's ids when
    ``test_id`` is not one of them (see :mod:`incidentops.gate.matching`).
    """

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    outcome: str
    blocked_at_turn: int | None = None
    runs: int | None = None
    passes: int | None = None
    source: str = ""
    message: str = ""
    model: str | None = None
    check: str | None = None
    names: tuple[str, ...] = ()

    @property
    def counted_runs(self) -> int:
        """Runs this result stands for: stated, else 1 (0 for a skip)."""
        if self.runs is not None:
            return self.runs
        return 0 if self.outcome == SKIP else 1

    @property
    def counted_passes(self) -> int:
        """Passing runs this result stands for: stated, else 1 for a pass."""
        if self.passes is not None:
            return self.passes
        return 1 if self.outcome == PASS else 0


def short_message(text: str) -> str:
    """First non-blank line of ``text``, capped: results files carry whole tracebacks."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
    return ""


class ResultsSource(Protocol):
    """A results file opened for reading: a regular file, read at most up to the size cap."""

    @property
    def label(self) -> str:
        """The path as the user gave it, for ``path:line`` messages."""
        ...

    @property
    def head(self) -> bytes:
        """The first bytes (up to 4 KiB), for sniffing the format."""
        ...

    def chunks(self) -> Iterator[bytes]:
        """The whole content in pieces, from the start; memory stays bounded by one piece."""
        ...

    def read_all(self) -> bytes:
        """The whole content at once (bounded by the size cap), for formats that need it (zip)."""
        ...


@dataclass(frozen=True, slots=True)
class Reader:
    """One results format the gate understands."""

    name: str
    suffixes: frozenset[str]
    sniff: Callable[[bytes], bool]
    parse: Callable[[ResultsSource], list[TestResult]]
    #: what writes this format, for the report ("pytest --junitxml", "inspect eval")
    writers: str = ""
