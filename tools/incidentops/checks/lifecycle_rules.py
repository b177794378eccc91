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
from typing import TYPE_CHECKING, Any

from incidentops.lifecycle.ceremony import reason_codes
from incidentops.lifecycle.decay import parse_time
from incidentops.lifecycle.decisions import future_problem, label_problem, order_problem, read_chain
from incidentops.lifecycle.review import APPLIED_STATES, DECISIONS, QUARTER, parse_quarter
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import ERROR, Finding
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

_LIFECYCLE_COMMAND = {"KEEP": "keep", "DEPRECATE": "deprecate", "RETIRE": "retire"}


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()


def review_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    if not isinstance(data, dict):
        return
    stem = path.rsplit("/", 1)[1].removesuffix(".yaml")
    quarter = data.get("quarter")
    quarter_start: datetime | None = None
    if isinstance(quarter, str) and QUARTER.fullmatch(quarter):
        try:
            quarter_start = parse_quarter(quarter)[0]
        except IncidentOpsError as exc:
            yield doc.finding(("quarter",), ERROR, "review.quarter", exc.message, exc.hint)
            return
        if quarter != stem:
            yield doc.finding(("quarter",), ERROR, "review.quarter",
                              f"quarter '{quarter}' does not match the file name '{stem}.yaml'",
                              f"name the file reviews/{quarter}.yaml or set `quarter: {stem}`")
        declared = data.get("quarter_start")
        if isinstance(declared, str) and declared != f"{quarter_start:%Y-%m-%d}":
            yield doc.finding(("quarter_start",), ERROR, "review.quarter-start",
                              f"quarter_start {declared} is not the first day of {quarter}",
                              f'set `quarter_start: "{quarter_start:%Y-%m-%d}"`')
    complete = data.get("status") == "complete"
    if complete and _blank(data.get("completed_at")):
        yield doc.finding(("status",), ERROR, "review.completed-at",
                          "a complete review needs `completed_at`",
                          'add `completed_at: "YYYY-MM-DDTHH:MM:SSZ"` (when the council signed it off)')
    tests = data.get("tests")
    if not isinstance(tests, list):
        return
    codes = reason_codes(ctx.registry.policy_record)
    seen: dict[str, int] = {}
    for index, item in enumerate(tests):
        if not isinstance(item, dict):
            continue
        yield from _item_rules(ctx, doc, index, item, seen, codes, complete, quarter_start)


def _item_rules(
    ctx: CheckContext, doc: Document, index: int, item: dict[str, Any], seen: dict[str, int],
    codes: list[str], complete: bool, quarter_start: datetime | None,
) -> Iterator[Finding]:  # fmt: skip
    at = ("tests", index)
    test_id = item.get("test_id")
    decision = item.get("decision")
    if isinstance(test_id, str):
        if test_id in seen:
            yield doc.finding((*at, "test_id"), ERROR, "review.duplicate",
                              f"{test_id} is listed twice (also as test {seen[test_id] + 1})",
                              "keep one entry per test")
        else:
            seen[test_id] = index
        if test_id not in ctx.registry.test_paths:
            yield doc.finding((*at, "test_id"), ERROR, "review.unknown-test",
                              f"test '{test_id}' does not exist in regressions/ or regressions/archive/",
                              "check the id; tests are never deleted, so a reviewed test always exists")
    name = test_id if isinstance(test_id, str) else f"test {index + 1}"
    if decision is None:
        if complete:
            yield doc.finding((*at, "decision"), ERROR, "review.decision-open",
                              f"{name}: no decision, but the review is complete",
                              "set `decision:` to KEEP, DEPRECATE or RETIRE, or set `status: open`")
        return
    if decision == "KEEP" and _blank(item.get("justification")):
        where = (*at, "justification") if "justification" in item else (*at, "decision")
        yield doc.finding(where, ERROR, "review.justification",
                          f"{name}: KEEP needs a justification",
                          "write why the test stays in `justification:` (the seed's 'KEEP: document justification')")
    if decision in ("DEPRECATE", "RETIRE") and _blank(item.get("reason")):
        where = (*at, "reason") if "reason" in item else (*at, "decision")
        yield doc.finding(where, ERROR, "review.reason", f"{name}: {decision} needs a reason",
                          "write why in `reason:`")
    code = item.get("reason_code")
    if isinstance(code, str) and codes and code not in codes:
        yield doc.finding((*at, "reason_code"), ERROR, "review.reason-code",
                          f"{name}: reason_code '{code}' is not one of {', '.join(codes)}")
    if complete and isinstance(test_id, str) and decision in DECISIONS:
        completed = parse_time(doc.data.get("completed_at"))
        yield from _applied(ctx, doc, at, test_id, decision, quarter_start, completed)


def _applied(
    ctx: CheckContext, doc: Document, at: tuple[str, int], test_id: str, decision: str,
    quarter_start: datetime | None, completed: datetime | None,
) -> Iterator[Finding]:  # fmt: skip
    path = ctx.registry.test_path(test_id)
    test = ctx.registry.data(path) if path else None
    if test is None:
        return
    state = test.get("state")
    expected = APPLIED_STATES[decision]
    history = test.get("decisions")
    if state in expected or _superseded(history, decision, quarter_start, completed):
        return
    yield doc.finding((*at, "decision"), ERROR, "review.applied",
                      f"{test_id}: the review decided {decision} but {path} is {state}",
                      _apply_hint(test_id, decision, state) + ", or set the review back to `status: open`")


def _apply_hint(test_id: str, decision: str, state: object) -> str:
    """The lifecycle command(s) that take the test from ``state`` to what the review decided."""
    if state == "RETIRED":
        return f"{test_id} is retired for good; record the decision the review took in fact"
    if decision == "KEEP":
        # `lifecycle keep` applies to ACTIVE and MONITORING tests only: a DEPRECATED one is reprieved
        return (f"reprieve it with `incidentops lifecycle activate {test_id} --reason ...`"
                f" (or `monitor` to run it without blocking)")
    if decision == "RETIRE" and state != "DEPRECATED":
        return (f"retirement follows deprecation: `incidentops lifecycle deprecate {test_id} --reason ..."
                f" --approver ...`, then `incidentops lifecycle retire {test_id} --reason ... --reason-code ..."
                " --approver ...`")
    command = _LIFECYCLE_COMMAND[decision]
    extra = " --reason-code ... --approver ..." if decision == "RETIRE" else " --approver ..."
    return f"apply it with `incidentops lifecycle {command} {test_id} --reason ...{extra}`"


def _superseded(
    decisions: object, decision: str, since: datetime | None, completed: datetime | None
) -> bool:
    """Whether a later decision superseded the review's.

    That is: the test's history shows the review's decision applied (on or
    after the quarter's first day) followed by another one, or shows any
    decision taken after the review was completed.
    """
    if not isinstance(decisions, list):
        return False
    applied = False
    for item in decisions:
        if not isinstance(item, dict):
            continue
        when = parse_time(item.get("at"))
        if when is None:
            continue
        if completed is not None and when > completed:
            return True
        if since is None or when < since:
            continue
        if applied:
            return True
        applied = item.get("decision") == decision
    return False


def decision_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """A test's decision history, read for the state changes it records."""
    data = doc.data
    if not isinstance(data, dict):
        return
    steps = read_chain(data.get("decisions"))
    previous = None
    for step in steps:
        at = ("decisions", step.index)
        problem = label_problem(step, first=step.index == 0)
        if problem:
            yield doc.finding((*at, "decision"), ERROR, "lifecycle.decision-label", problem,
                              "name a decision after the change it records: KEEP (no change), MONITOR,"
                              " ACTIVATE, DEPRECATE, RETIRE; the first one is CREATE")
        if previous is not None and step.from_state != previous.to_state:
            yield doc.finding((*at, "from_state"), ERROR, "lifecycle.decision-chain",
                              f"decision {step.index + 1} starts from {step.from_state}, but decision"
                              f" {previous.index + 1} left the test {previous.to_state}",
                              "each decision starts where the one before it left the test")
        for problem in (order_problem(previous, step), future_problem(step, ctx.as_of)):
            if problem:
                yield doc.finding((*at, "at"), ERROR, "lifecycle.decision-date", problem,
                                  "decisions are appended in the order they are taken and dated when taken")
        previous = step
    state = data.get("state")
    if steps and isinstance(state, str) and steps[-1].to_state is not None and steps[-1].to_state != state:
        yield doc.finding(("state",), ERROR, "lifecycle.state",
                          f"state is {state}, but the last decision leads to {steps[-1].to_state}",
                          "change a state with `incidentops lifecycle`, which records the decision with it")


RULES = {"review": [review_rules], "regression": [decision_rules]}
