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
from typing import TYPE_CHECKING

from incidentops.lifecycle.ceremony import known_suites
from incidentops.policy.severity import (
    default_weight,
    incident_severity,
    known_severity,
    level_entry,
)
from incidentops.records.findings import ERROR, WARNING, Finding
from incidentops.records.kinds import kind_of
from incidentops.records.model import (
    GateVerdict,
    Handoff,
    HandoffTest,
    RegressionTest,
    Release,
    Scenario,
    State,
)
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

HANDOFF_FIELDS = ("scenario", "expected_block_turn", "severity_weight")
DEFAULT_SUITE = "model-safety-regression-suite"


def _same(handed: HandoffTest, test: RegressionTest, field: str) -> bool:
    if field == "severity_weight":
        return math.isclose(handed.severity_weight, test.severity_weight, abs_tol=1e-9)
    return bool(getattr(handed, field) == getattr(test, field))


# ---- regression tests ------------------------------------------------------


def weight_range_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.weight-range``: the weight must lie in the policy's range for the incident's severity."""
    test = ctx.registry.typed(RegressionTest, path)
    severity = incident_severity(ctx.registry, test.incident_id) if test is not None else None
    if test is None or severity is None:
        return
    weight = test.severity_weight
    policy = ctx.registry.policy_record
    level = level_entry(policy, severity)
    bounds = level.weight_range if level is not None else ()
    if len(bounds) != 2:
        return
    low, high = bounds
    if low - 1e-9 <= weight <= high + 1e-9:
        return
    yield test.source.finding(
        ("severity_weight",), WARNING, "gate.weight-range",
        f"severity_weight {weight:g} is outside the {severity} range {low:g}-{high:g} of the policy",
        f"{severity} tests weigh {low:g} to {high:g} (default {default_weight(policy, severity):g}); "
        "use a weight in that range, or reassess the incident's severity",
    )


def _turn_count(ctx: CheckContext, test: RegressionTest) -> int | None:
    turns = test.turns
    if not turns and test.scenario_file is not None and kind_of(test.scenario_file) is not None:
        scenario = ctx.registry.typed(Scenario, test.scenario_file)
        turns = scenario.turns if scenario is not None else ()
    return len(turns) or None


def block_turn_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.block-turn``: expected_block_turn must name one of the test's turns."""
    test = ctx.registry.typed(RegressionTest, path)
    if test is None:
        return
    expected, count = test.expected_block_turn, _turn_count(ctx, test)
    if count is None or expected <= count:
        return
    yield test.source.finding(
        ("expected_block_turn",), WARNING, "gate.block-turn",
        f"expected_block_turn {expected} is past the last of the {count} turns: a late refusal could never fail the test",
        f"set it to the turn the model must refuse at (at most {count}), or add the attack's remaining turns",
    )


def scenario_file_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``gate.scenario-file``: scenario files live in scenarios/, where check validates them."""
    test = ctx.registry.typed(RegressionTest, path)
    if test is None or test.scenario_file is None:
        return
    scenario_file = test.scenario_file
    kind = kind_of(scenario_file)
    if kind is not None and kind.name == "scenario":
        return
    name = scenario_file.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    yield test.source.finding(
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
    test = ctx.registry.typed(RegressionTest, path)
    if test is None:
        return
    known = known_suites(ctx.registry.policy_record)
    if not known or test.suite in known:
        return
    close = difflib.get_close_matches(test.suite, list(known), n=1, cutoff=0.6)
    level = WARNING if test.state is State.RETIRED else ERROR
    yield test.source.finding(
        ("suite",), level, "gate.suite",
        f"suite '{test.suite}' is not one of the policy's suites ({', '.join(known)})",
        (f"did you mean '{close[0]}'? " if close else "")
        + "a test of an undeclared suite blocks `gate --suite`; declare a new suite in incidentops.yaml"
        " regression.suites",
    )


# ---- handoffs --------------------------------------------------------------


def handoff_mismatch_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``handoff.mismatch``: the handoff says what its test and its incident say."""
    handoff = ctx.registry.typed(Handoff, path)
    if handoff is None:
        return
    incident_id = handoff.incident_id
    severity = known_severity(ctx.registry.policy_record, handoff.severity)
    recorded = incident_severity(ctx.registry, incident_id)
    if severity is not None and recorded is not None and severity != recorded:
        yield handoff.source.finding(
            ("severity",), ERROR, "handoff.mismatch",
            f"severity: {severity} here, but incident {incident_id} is {recorded}",
            f"incidents/{incident_id}/incident.yaml has `severity: {recorded}`; "
            "the handoff carries the incident's severity",
        )
    handed = handoff.regression_test
    test_id = handed.test_id
    test = ctx.registry.test_record(test_id)
    if test is None:
        return  # a missing test is `ref.test`; one that fails its schema is reported there
    test_path = test.source.path
    owner = test.incident_id
    if owner != incident_id:
        own = sorted(t.test_id for t in ctx.registry.test_records() if t.incident_id == incident_id)
        yield handed.source.finding(
            ("test_id",), ERROR, "handoff.mismatch",
            f"regression_test.test_id: {test_id} is the test of {owner}, not of {incident_id}",
            f"{test_path} has `incident_id: {owner}`"
            + (f"; {incident_id}'s test is {own[0]}" if own else f"; create {incident_id}'s test with "
               f"`incidentops new regression {incident_id}`"),
        )
    for field in HANDOFF_FIELDS:
        if _same(handed, test, field):
            continue
        yield handed.source.finding(
            (field,), ERROR, "handoff.mismatch",
            f"regression_test.{field}: {handed.source.text(field)} here, but {test_id} has {test.source.text(field)}",
            f"{test_path} has `{field}: {test.source.text(field)}`; make the handoff and the test agree",
        )


# ---- release records -------------------------------------------------------


def release_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """A release record is named after its file, names a known model and is self-consistent."""
    release = ctx.registry.typed(Release, path)
    if release is None:
        return
    stem = path.rsplit("/", 1)[-1].removesuffix(".yaml")
    if release.name != stem:
        yield release.source.finding(("name",), ERROR, "id.filename",
                                     f"name '{release.name}' does not match the file name '{stem}.yaml'",
                                     f"set `name: {stem}`; records are never renamed")
    model = release.model_version
    known = ctx.registry.model_versions
    if model is not None and known and model not in known:
        close = difflib.get_close_matches(model, list(known), n=1)
        yield release.source.finding(("model_version",), WARNING, "ref.model",
                                     f"model_version: model version '{model}' is not in models.yaml",
                                     f"did you mean '{close[0]}'?" if close else "add the released version to models.yaml")
    decision, blocking = release.decision, release.blocking
    if (decision is GateVerdict.BLOCK) != bool(blocking):
        says = "lists blocking tests" if blocking else "lists no blocking test"
        yield release.source.finding(("decision",), ERROR, "gate.record-decision",
                                     f"decision {decision} contradicts the record, which {says}",
                                     "release records are written by `incidentops gate --record`; do not edit the decision")


RULES = {
    "regression": [weight_range_rule, block_turn_rule, scenario_file_rule, suite_rule],
    "handoff": [handoff_mismatch_rule],
    "release": [release_rule],
}
