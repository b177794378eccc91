"""What scaffolds leave to fill in: TODO markers, and the attack turns a new test starts with.

``incidentops handoff`` writes a regression test whose turns are placeholders
("TODO: user turn 1 of the attack"). A test that runs (ACTIVE, MONITORING) with such a
turn would replay the placeholder to the model and pass: `check` makes that an error
and ``suite export`` refuses to export it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TODO_RE = re.compile(r"\bTODO\b")
#: states in which a test's turns are replayed and judged
RUN_STATES = ("ACTIVE", "MONITORING")


def is_placeholder(turn: object) -> bool:
    """Whether a user turn is a scaffold placeholder rather than the attack's text."""
    return isinstance(turn, str) and (not turn.strip() or TODO_RE.search(turn) is not None)


def placeholder_turns(turns: Iterable[object]) -> list[int]:
    """The 1-based numbers of the placeholder turns in ``turns``."""
    return [number for number, turn in enumerate(turns, start=1) if is_placeholder(turn)]
