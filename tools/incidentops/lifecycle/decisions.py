"""What a test's recorded decisions mean: the state change each one makes, in order.

A decision's label (KEEP, MONITOR, ...) is only a name: what counts is its
``from_state`` -> ``to_state``. The label must agree with that change (KEEP
changes nothing, MONITOR leads to MONITORING, CREATE only opens a history),
each decision starts where the one before it ended, and the dates run forward.
``check`` and ``pr-check`` both read a test's typed decisions through
:func:`read_decisions`, so a label can never make a weakening look like something else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidentops.records.model import Decision

CREATE, KEEP, MONITOR, ACTIVATE, DEPRECATE, RETIRE = "CREATE", "KEEP", "MONITOR", "ACTIVATE", "DEPRECATE", "RETIRE"
#: label -> the state it leads to (KEEP and CREATE: see :func:`label_problem`)
LEADS_TO = {MONITOR: "MONITORING", ACTIVATE: "ACTIVE", DEPRECATE: "DEPRECATED", RETIRE: "RETIRED"}
#: how firmly a state holds the release: a step down the ranking weakens the test
HOLD = {"ACTIVE": 3, "MONITORING": 2, "DEPRECATED": 1, "RETIRED": 0}
#: how far a decision date may lie ahead of the trusted clock (clock skew between machines)
SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded decision, read for its effect."""

    index: int
    label: str | None
    from_state: str | None  # as recorded (None: not recorded)
    to_state: str | None
    at: datetime | None
    by: str | None
    approver: str | None
    reason: str

    @property
    def changes_state(self) -> bool:
        return self.from_state is not None and self.to_state is not None and self.from_state != self.to_state


def read_decisions(decisions: Sequence[Decision], start: str | None = None, offset: int = 0) -> list[Step]:
    """The decisions of a test as steps; a missing ``from_state`` is the previous step's ``to_state``.

    ``start`` is the state before the first of ``decisions`` (None for a whole history,
    which opens with CREATE); ``offset`` is the index of the first one in the file.
    """
    steps: list[Step] = []
    state = start
    for number, decision in enumerate(decisions, start=offset):
        to_state = str(decision.to_state)
        from_state = str(decision.from_state) if decision.from_state is not None else state
        steps.append(Step(number, str(decision.decision), from_state, to_state, decision.at,
                          decision.by.strip() or None, (decision.approver or "").strip() or None,
                          decision.reason.strip()))
        state = to_state
    return steps


def label_problem(step: Step, first: bool) -> str | None:
    """Why ``step``'s label does not describe its state change (None when it does)."""
    label, before, after = step.label, step.from_state, step.to_state
    if label is None or after is None:
        return None  # the schema reports a missing field
    if label == CREATE:
        if not first:
            return "CREATE opens a test's history; a later decision cannot be a CREATE"
        if before is not None:
            return f"CREATE has no previous state, but this one records from_state {before}"
        return None
    if first and before is None:
        return f"the first decision of a test is its CREATE, not {label}"
    if label == KEEP:
        if before is not None and before != after:
            return f"KEEP changes no state, but this one moves the test {before} -> {after}"
        return None
    target = LEADS_TO.get(label)
    if target is not None and after != target:
        return f"{label} leads to {target}, but this one records to_state {after}"
    if before is not None and before == after:
        return f"{label} changes the state, but the test is {before} before and after"
    return None


def weakens(before: str | None, after: str | None) -> bool:
    """Whether moving from ``before`` to ``after`` loosens the test's hold on releases."""
    if before is None or after is None:
        return False
    return HOLD.get(after, 0) < HOLD.get(before, 0)


def order_problem(previous: Step | None, step: Step) -> str | None:
    if previous is None or previous.at is None or step.at is None or step.at >= previous.at:
        return None
    return (f"decision {step.index + 1} is dated {step.at:%Y-%m-%dT%H:%M:%SZ}, before decision"
            f" {previous.index + 1} ({previous.at:%Y-%m-%dT%H:%M:%SZ})")


def future_problem(step: Step, now: datetime) -> str | None:
    if step.at is None or step.at <= now + SKEW:
        return None
    return f"decision {step.index + 1} is dated {step.at:%Y-%m-%dT%H:%M:%SZ}, after now ({now:%Y-%m-%dT%H:%M:%SZ})"


def last_state(steps: Sequence[Step]) -> str | None:
    return steps[-1].to_state if steps else None
