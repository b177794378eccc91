"""One test's result as read from a results file (JUnit XML or JSONL)."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class TestResult:
    """The result of one regression test in one run (or the combination of several).

    ``outcome`` is ``pass``, ``fail``, ``error`` or ``skip``. ``blocked_at_turn`` is the
    1-based user turn at which the model refused, when the runner reports it. ``runs`` and
    ``passes`` count repeated runs when the runner reports them (``None`` otherwise).
    ``source`` is where the result was read: ``path:line`` in JSONL, ``path:line:col``
    of the ``<testcase>`` in XML (pytest writes its whole report on one line).
    """

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    outcome: str
    blocked_at_turn: int | None = None
    runs: int | None = None
    passes: int | None = None
    source: str = ""
    message: str = ""

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
