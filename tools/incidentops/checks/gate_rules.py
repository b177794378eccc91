"""Rules that keep the release gate honest: weights, handoffs, scenarios, suites, release records.

- ``gate.weight-range``: a test's severity_weight lies outside the policy's
  weight_range for its incident's severity (warning).
- ``handoff.mismatch``: a handoff disagrees with its regression test (test_id,
  scenario, expected_block_turn, severity_weight) or with its incident's severity.
- ``gate.block-turn``: expected_block_turn is past the last turn, so a late
  refusal could never fail the test (warning).
- ``gate.scenario-file``: a scenario file outside scenarios/, where check does
  not validate it (warning).
- ``gate.suite``: a suite name no other test uses that is close to one in use:
  a typo that drops the test from ``--suite`` exports and gates (warning).
- ``gate.record-decision``: a release record whose decision contradicts its
  blocking list; ``id.filename`` and ``ref.model`` for release records.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from incidentops.lifecycle.ceremony import known_suites
from incidentops.policy.severity import default_weight, level_entry
from incidentops.records.findings import ERROR, WARNING, Finding
from incidentops.records.kinds import kind_of
from incidentops.records.validate import schema_failed
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

HANDOFF_FIELDS = ("scenario", "expected_block_turn", "severity_weight")
DEFAULT_SUITE = "model-safety-regression-suite"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _same(mine: Any, theirs: Any) -> bool:
    a, b = _number(mine), _number(theirs)
    if a is not None and b is not None:
        return math.isclose(a, b, abs_tol=1e-9)
    return bool(mine == theirs)


def _incident_severity(ctx: CheckContext, incident_id: Any) -> str | None:
    """The incident's severity, or None when it is not one the policy knows (``schema.enum`` says
    so on the incident): no rule gives advice reasoned from a value that failed its schema."""
    if not isinstance(incident_id, str):
        return None
    incident = ctx.registry.incident(incident_id)
    return known_severity(ctx, incident.get("severity") if incident else None)


def known_severity(ctx: CheckContext, severity: Any) -> str | None:
    known = [str(level.get("id")) for level in ctx.registry.policy.get("severity_levels") or []
             if isinstance(level, dict)]
    return severity if isinstance(severity, str) and severity in known else None


# ---- regression tests ------------------------------------------------------


def weight_range_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.weight-range``: the weight must lie in the policy's range for the incident's severity."""
    weight = _number(doc.data.get("severity_weight"))
    severity = _incident_severity(ctx, doc.data.get("incident_id"))
    if weight is None or severity is None:
        return
    policy = ctx.registry.policy_record
    level = level_entry(policy, severity)
    bounds = level.weight_range if level is not None else ()
    if len(bounds) != 2:
        return
    low, high = bounds
    if low - 1e-9 <= weight <= high + 1e-9:
        return
    yield doc.finding(
        ("severity_weight",), WARNING, "gate.weight-range",
        f"severity_weight {weight:g} is outside the {severity} range {low:g}-{high:g} of the policy",
        f"{severity} tests weigh {low:g} to {high:g} (default {default_weight(policy, severity):g}); "
        "use a weight in that range, or reassess the incident's severity",
    )


def _turn_count(ctx: CheckContext, data: dict[str, Any]) -> int | None:
    turns = data.get("turns")
    scenario_file = data.get("scenario_file")
    if turns is None and isinstance(scenario_file, str) and kind_of(scenario_file) is not None:
        scenario = ctx.registry.data(scenario_file)
        turns = scenario.get("turns") if scenario else None
    return len(turns) if isinstance(turns, list) and turns else None


def block_turn_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.block-turn``: expected_block_turn must name one of the test's turns."""
    expected = doc.data.get("expected_block_turn")
    count = _turn_count(ctx, doc.data)
    if isinstance(expected, bool) or not isinstance(expected, int) or count is None or expected <= count:
        return
    yield doc.finding(
        ("expected_block_turn",), WARNING, "gate.block-turn",
        f"expected_block_turn {expected} is past the last of the {count} turns: a late refusal could never fail the test",
        f"set it to the turn the model must refuse at (at most {count}), or add the attack's remaining turns",
    )


def scenario_file_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.scenario-file``: scenario files live in scenarios/, where check validates them."""
    scenario_file = doc.data.get("scenario_file")
    if not isinstance(scenario_file, str):
        return
    kind = kind_of(scenario_file)
    if kind is not None and kind.name == "scenario":
        return
    name = scenario_file.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    yield doc.finding(
        ("scenario_file",), WARNING, "gate.scenario-file",
        f"scenario_file '{scenario_file}' is not in scenarios/, so `check` does not validate it",
        f"move it to scenarios/{stem}.yaml and point scenario_file there",
    )


def suite_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.suite``: a test belongs to a suite the policy declares (``regression.suites``).

    A test of an undeclared suite (a typo, most often) would be left out of
    ``--suite`` exports; the gate blocks on it, and ``check`` says so first.
    A retired test of a suite since dropped is only a warning.
    """
    suite = doc.data.get("suite")
    if not isinstance(suite, str):
        return
    known = known_suites(ctx.registry.policy)
    if not known or suite in known:
        return
    close = difflib.get_close_matches(suite, list(known), n=1, cutoff=0.6)
    level = WARNING if doc.data.get("state") == "RETIRED" else ERROR
    yield doc.finding(
        ("suite",), level, "gate.suite",
        f"suite '{suite}' is not one of the policy's suites ({', '.join(known)})",
        (f"did you mean '{close[0]}'? " if close else "")
        + "a test of an undeclared suite blocks `gate --suite`; declare a new suite in incidentops.yaml"
        " regression.suites",
    )


# ---- handoffs --------------------------------------------------------------


def handoff_mismatch_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``handoff.mismatch``: the handoff says what its test and its incident say."""
    data = doc.data
    incident_id = data.get("incident_id")
    severity = known_severity(ctx, data.get("severity"))
    incident_severity = _incident_severity(ctx, incident_id)
    if severity is not None and incident_severity is not None and severity != incident_severity:
        yield doc.finding(
            ("severity",), ERROR, "handoff.mismatch",
            f"severity: {severity} here, but incident {incident_id} is {incident_severity}",
            f"incidents/{incident_id}/incident.yaml has `severity: {incident_severity}`; "
            "the handoff carries the incident's severity",
        )
    handed = data.get("regression_test")
    test_id = handed.get("test_id") if isinstance(handed, dict) else None
    if not isinstance(handed, dict) or not isinstance(test_id, str):
        return
    test = ctx.registry.test(test_id)
    if test is None:
        return  # a missing test is `ref.test`
    test_path = ctx.registry.test_path(test_id)
    owner = test.get("incident_id")
    if isinstance(incident_id, str) and isinstance(owner, str) and owner != incident_id:
        own = sorted(str(t["test_id"]) for _p, t in ctx.registry.tests()
                     if t.get("incident_id") == incident_id and isinstance(t.get("test_id"), str))
        yield doc.finding(
            ("regression_test", "test_id"), ERROR, "handoff.mismatch",
            f"regression_test.test_id: {test_id} is the test of {owner}, not of {incident_id}",
            f"{test_path} has `incident_id: {owner}`"
            + (f"; {incident_id}'s test is {own[0]}" if own else f"; create {incident_id}'s test with "
               f"`incidentops new regression {incident_id}`"),
        )
    test_doc = ctx.registry.doc(test_path) if test_path else None
    for field in HANDOFF_FIELDS:
        if field not in handed or field not in test:
            continue
        if schema_failed(doc, ("regression_test", field)) or (test_doc is not None and schema_failed(test_doc, (field,))):
            continue  # the schema finding says what is wrong; no advice to copy a refused value
        mine, theirs = handed[field], test[field]
        if _same(mine, theirs):
            continue
        yield doc.finding(
            ("regression_test", field), ERROR, "handoff.mismatch",
            f"regression_test.{field}: {_yaml_value(mine)} here, but {test_id} has {_yaml_value(theirs)}",
            f"{test_path} has `{field}: {_yaml_value(theirs)}`; make the handoff and the test agree",
        )


# ---- release records -------------------------------------------------------


def release_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """A release record is named after its file, names a known model and is self-consistent."""
    data = doc.data
    stem = path.rsplit("/", 1)[-1].removesuffix(".yaml")
    name = data.get("name")
    if isinstance(name, str) and name != stem:
        yield doc.finding(("name",), ERROR, "id.filename",
                          f"name '{name}' does not match the file name '{stem}.yaml'",
                          f"set `name: {stem}`; records are never renamed")
    model = data.get("model_version")
    known = ctx.registry.model_versions
    if isinstance(model, str) and known and model not in known:
        close = difflib.get_close_matches(model, list(known), n=1)
        yield doc.finding(("model_version",), WARNING, "ref.model",
                          f"model_version: model version '{model}' is not in models.yaml",
                          f"did you mean '{close[0]}'?" if close else "add the released version to models.yaml")
    decision, blocking = data.get("decision"), data.get("blocking")
    if isinstance(blocking, list) and decision in ("PASS", "BLOCK") and (decision == "BLOCK") != bool(blocking):
        says = "lists blocking tests" if blocking else "lists no blocking test"
        yield doc.finding(("decision",), ERROR, "gate.record-decision",
                          f"decision {decision} contradicts the record, which {says}",
                          "release records are written by `incidentops gate --record`; do not edit the decision")


RULES = {
    "regression": [weight_range_rule, block_turn_rule, scenario_file_rule, suite_rule],
    "handoff": [handoff_mismatch_rule],
    "release": [release_rule],
}
