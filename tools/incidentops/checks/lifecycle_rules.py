"""Rules of the regression lifecycle: decision histories and quarterly review records.

A retirement left half done is the ceremony rules' (checks/ceremony_rules.py).

A test's decisions (``lifecycle.*``) are read for their effect
(:mod:`incidentops.lifecycle.decisions`): each is named after its from_state -> to_state,
starts where the one before it ended, is dated after it and not after now, and
the test's ``state`` is where the last one leads.

Review records (``review.*``): the quarter matches the file name; each decision
is KEEP with a justification, or DEPRECATE / RETIRE with a reason; and once the
review is complete, every test's file agrees with its decision (DEPRECATE ->
DEPRECATED, RETIRE -> RETIRED in the archive, KEEP -> ACTIVE or MONITORING).
A later decision recorded in the test's history (a reprieve, a retirement next
quarter) supersedes the review's, so past reviews stay valid.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from incidentops.lifecycle.ceremony import reason_codes
from incidentops.lifecycle.decisions import (
    future_problem,
    label_problem,
    order_problem,
    read_decisions,
)
from incidentops.lifecycle.review import APPLIED_STATES, DECISIONS, parse_quarter
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import ERROR, Finding
from incidentops.records.model import Decision, RegressionTest, Review, ReviewRow, State
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

_LIFECYCLE_COMMAND = {"KEEP": "keep", "DEPRECATE": "deprecate", "RETIRE": "retire"}


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def review_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    review = ctx.registry.typed(Review, path)
    if review is None:
        return
    source, quarter = review.source, review.quarter
    stem = path.rsplit("/", 1)[1].removesuffix(".yaml")
    quarter_start: datetime | None = None
    try:
        quarter_start = parse_quarter(quarter)[0]
    except IncidentOpsError as exc:
        yield source.finding(("quarter",), ERROR, "review.quarter", exc.message, exc.hint)
        return
    if quarter != stem:
        yield source.finding(("quarter",), ERROR, "review.quarter",
                             f"quarter '{quarter}' does not match the file name '{stem}.yaml'",
                             f"name the file reviews/{quarter}.yaml or set `quarter: {stem}`")
    if review.quarter_start is not None and review.quarter_start != quarter_start.date():
        yield source.finding(("quarter_start",), ERROR, "review.quarter-start",
                             f"quarter_start {source.text('quarter_start')} is not the first day of {quarter}",
                             f'set `quarter_start: "{quarter_start:%Y-%m-%d}"`')
    if review.complete and review.completed_at is None:
        yield source.finding(("status",), ERROR, "review.completed-at",
                             "a complete review needs `completed_at`",
                             'add `completed_at: "YYYY-MM-DDTHH:MM:SSZ"` (when the council signed it off)')
    codes = reason_codes(ctx.registry.policy_record)
    seen: dict[str, int] = {}
    for index, row in enumerate(review.tests):
        yield from _row_rules(ctx, review, index, row, seen, codes, quarter_start)


def _row_rules(
    ctx: CheckContext, review: Review, index: int, row: ReviewRow, seen: dict[str, int],
    codes: list[str], quarter_start: datetime | None,
) -> Iterator[Finding]:  # fmt: skip
    test_id, decision, source = row.test_id, row.decision, row.source
    if test_id in seen:
        yield source.finding(("test_id",), ERROR, "review.duplicate",
                             f"{test_id} is listed twice (also as test {seen[test_id] + 1})",
                             "keep one entry per test")
    else:
        seen[test_id] = index
    if test_id not in ctx.registry.test_paths:
        yield source.finding(("test_id",), ERROR, "review.unknown-test",
                             f"test '{test_id}' does not exist in regressions/ or regressions/archive/",
                             "check the id; tests are never deleted, so a reviewed test always exists")
    if decision is None:
        if review.complete:
            yield source.finding(("decision",), ERROR, "review.decision-open",
                                 f"{test_id}: no decision, but the review is complete",
                                 "set `decision:` to KEEP, DEPRECATE or RETIRE, or set `status: open`")
        return
    if decision == "KEEP" and _blank(row.justification):
        where = ("justification",) if source.has("justification") else ("decision",)
        yield source.finding(where, ERROR, "review.justification",
                             f"{test_id}: KEEP needs a justification",
                             "write why the test stays in `justification:` (the seed's 'KEEP: document justification')")
    if decision in ("DEPRECATE", "RETIRE") and _blank(row.reason):
        where = ("reason",) if source.has("reason") else ("decision",)
        yield source.finding(where, ERROR, "review.reason", f"{test_id}: {decision} needs a reason",
                             "write why in `reason:`")
    if row.reason_code is not None and codes and row.reason_code not in codes:
        yield source.finding(("reason_code",), ERROR, "review.reason-code",
                             f"{test_id}: reason_code '{row.reason_code}' is not one of {', '.join(codes)}")
    if review.complete and decision in DECISIONS:
        yield from _applied(ctx, row, decision, quarter_start, review.completed_at)


def _applied(
    ctx: CheckContext, row: ReviewRow, decision: str, quarter_start: datetime | None, completed: datetime | None,
) -> Iterator[Finding]:  # fmt: skip
    test = ctx.registry.test_record(row.test_id)
    if test is None:
        return
    state = test.state
    if state in APPLIED_STATES[decision] or _superseded(test.decisions, decision, quarter_start, completed):
        return
    yield row.source.finding(("decision",), ERROR, "review.applied",
                             f"{row.test_id}: the review decided {decision} but {test.path} is {state}",
                             _apply_hint(row.test_id, decision, state) + ", or set the review back to `status: open`")


def _apply_hint(test_id: str, decision: str, state: State) -> str:
    """The lifecycle command(s) that take the test from ``state`` to what the review decided."""
    if state is State.RETIRED:
        return f"{test_id} is retired for good; record the decision the review took in fact"
    if decision == "KEEP":
        # `lifecycle keep` applies to ACTIVE and MONITORING tests only: a DEPRECATED one is reprieved
        return (f"reprieve it with `incidentops lifecycle activate {test_id} --reason ...`"
                f" (or `monitor` to run it without blocking)")
    if decision == "RETIRE" and state is not State.DEPRECATED:
        return (f"retirement follows deprecation: `incidentops lifecycle deprecate {test_id} --reason ..."
                f" --approver ...`, then `incidentops lifecycle retire {test_id} --reason ... --reason-code ..."
                " --approver ...`")
    command = _LIFECYCLE_COMMAND[decision]
    extra = " --reason-code ... --approver ..." if decision == "RETIRE" else " --approver ..."
    return f"apply it with `incidentops lifecycle {command} {test_id} --reason ...{extra}`"


def _superseded(
    decisions: tuple[Decision, ...], decision: str, since: datetime | None, completed: datetime | None
) -> bool:
    """Whether a later decision superseded the review's.

    That is: the test's history shows the review's decision applied (on or
    after the quarter's first day) followed by another one, or shows any
    decision taken after the review was completed.
    """
    applied = False
    for item in decisions:
        if completed is not None and item.at > completed:
            return True
        if since is None or item.at < since:
            continue
        if applied:
            return True
        applied = item.decision == decision
    return False


def decision_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """A test's decision history, read for the state changes it records."""
    test = ctx.registry.typed(RegressionTest, path)
    if test is None:
        return
    steps = read_decisions(test.decisions)
    previous = None
    for step in steps:
        at = ("decisions", step.index)
        problem = label_problem(step, first=step.index == 0)
        if problem:
            yield test.source.finding((*at, "decision"), ERROR, "lifecycle.decision-label", problem,
                              "name a decision after the change it records: KEEP (no change), MONITOR,"
                              " ACTIVATE, DEPRECATE, RETIRE; the first one is CREATE")
        if previous is not None and step.from_state != previous.to_state:
            yield test.source.finding((*at, "from_state"), ERROR, "lifecycle.decision-chain",
                              f"decision {step.index + 1} starts from {step.from_state}, but decision"
                              f" {previous.index + 1} left the test {previous.to_state}",
                              "each decision starts where the one before it left the test")
        for problem in (order_problem(previous, step), future_problem(step, ctx.as_of)):
            if problem:
                yield test.source.finding((*at, "at"), ERROR, "lifecycle.decision-date", problem,
                                  "decisions are appended in the order they are taken and dated when taken")
        previous = step
    state = test.state
    if steps and steps[-1].to_state is not None and steps[-1].to_state != state:
        yield test.source.finding(("state",), ERROR, "lifecycle.state",
                          f"state is {state}, but the last decision leads to {steps[-1].to_state}",
                          "change a state with `incidentops lifecycle`, which records the decision with it")


RULES = {"review": [review_rules], "regression": [decision_rules]}
