"""The release gate: regression tests + their results + policy -> PASS or BLOCK.

Rules (the seed's "If test fails -> BLOCK", made precise):

- A test in a blocking state (policy ``regression.blocking_states``: ACTIVE) blocks
  the release when it failed, errored, was skipped, has no result at all, failed
  any of its repeated runs, or refused later than its ``expected_block_turn``.
- The same problems in MONITORING or DEPRECATED tests are warnings, never blocking.
- Results for ids no record has, or for RETIRED tests, are warnings.
- Repeated runs whose pass rate lies strictly inside policy ``gate.flaky_pass_rate``
  are listed as flaky, with the suggestion to move an ACTIVE one to MONITORING.
- With ``suite``, a test whose own suite is not one the policy declares
  (``regression.suites``) is judged with that suite anyway and, in a blocking
  state, blocks: a misspelt ``suite:`` must never take a failing ACTIVE test out
  of the gate silently. Each such test is a finding ``gate.unknown-suite`` at its
  ``suite:`` line (a warning when every suite is judged). An undeclared ``suite``
  argument is refused.
- ``score`` is the weighted failure rate: the summed ``severity_weight`` of failed
  tests over that of tests that ran (passed, failed or errored). Failed means
  ``fail`` or ``error``, and, for a blocking-state test, a late refusal or a
  failed repeated run. 0.0 when nothing ran.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from incidentops.findings import ERROR as FINDING_ERROR
from incidentops.findings import WARNING as FINDING_WARNING
from incidentops.findings import Finding
from incidentops.gate.results import combine_results
from incidentops.gate.scope import (
    RegressionRecord,
    blocking_states,
    check_suite_option,
    flaky_band,
    record_test_id,
    run_states,
    select_suite,
    suite_hint,
)
from incidentops.gate.testresult import ERROR, FAIL, PASS, SKIP, TestResult
from incidentops.lifecycle import known_suites

PASS_DECISION = "PASS"
BLOCK_DECISION = "BLOCK"
MISSING = "missing"

VERDICT_PASS = "pass"
VERDICT_BLOCK = "block"
VERDICT_WARN = "warn"

UNKNOWN_SUITE = "gate.unknown-suite"

#: test_id -> (path, line, col) of the record's ``suite:`` value, for findings
Locations = Mapping[str, tuple[str, int, int]]


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """How one regression test fared in this gate run.

    ``outcome`` is the result's outcome or ``missing``; ``verdict`` is ``pass``,
    ``block`` (it stops the release) or ``warn`` (a problem in a non-blocking state).
    """

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    state: str
    blocking: bool
    outcome: str
    verdict: str
    reason: str
    severity_weight: float
    expected_block_turn: int | None
    blocked_at_turn: int | None
    runs: int | None
    passes: int | None
    counted_as_failed: bool
    source: str
    message: str


@dataclass(frozen=True, slots=True)
class GateWarning:
    """Something worth reading that does not block: ``test_id`` is None for run-wide notes."""

    test_id: str | None
    message: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class FlakyTest:
    """A test whose repeated runs disagree: pass rate strictly inside the policy's flaky band."""

    test_id: str
    state: str
    runs: int
    passes: int
    pass_rate: float
    suggestion: str


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's answer and everything that explains it."""

    decision: str
    suite: str | None
    blocking: tuple[TestOutcome, ...]
    warnings: tuple[GateWarning, ...]
    missing: tuple[str, ...]
    flaky: tuple[FlakyTest, ...]
    score: float
    tests_run: int
    per_test: tuple[TestOutcome, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def passed(self) -> bool:
        return self.decision == PASS_DECISION


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _weight(test: RegressionRecord) -> float:
    value = test.get("severity_weight")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 1.0


def _problems(result: TestResult | None, expected: int | None) -> tuple[list[str], bool, bool]:
    """(what went wrong, ran-and-failed, pass-does-not-hold) for one test's result."""
    if result is None:
        return ["no result: missing from every results file"], False, False
    detail = f": {result.message}" if result.message else ""
    problems: list[str] = []
    failed = result.outcome in (FAIL, ERROR)
    if result.outcome == FAIL:
        problems.append(f"failed{detail}")
    elif result.outcome == ERROR:
        problems.append(f"errored{detail}")
    elif result.outcome == SKIP:
        problems.append(f"skipped{detail}")
    weak_pass = False
    runs, passes = result.runs, result.passes
    if result.outcome == PASS and runs is not None and passes is not None and passes < runs:
        weak_pass = True
        problems.append(f"failed {runs - passes} of {runs} runs")
    turn = result.blocked_at_turn
    if turn is not None and expected is not None and turn > expected:
        weak_pass = weak_pass or result.outcome == PASS
        problems.append(f"blocked at turn {turn}, expected at or before turn {expected}")
    return problems, failed, weak_pass


def _outcome(test: RegressionRecord, result: TestResult | None, blocking: bool) -> TestOutcome:
    expected = _int_or_none(test.get("expected_block_turn"))
    problems, failed, weak_pass = _problems(result, expected)
    verdict = VERDICT_PASS if not problems else VERDICT_BLOCK if blocking else VERDICT_WARN
    return TestOutcome(
        test_id=record_test_id(test),
        state=str(test.get("state")),
        blocking=blocking,
        outcome=result.outcome if result else MISSING,
        verdict=verdict,
        reason="; ".join(problems),
        severity_weight=_weight(test),
        expected_block_turn=expected,
        blocked_at_turn=result.blocked_at_turn if result else None,
        runs=result.runs if result else None,
        passes=result.passes if result else None,
        counted_as_failed=failed or (blocking and weak_pass),
        source=result.source if result else "",
        message=result.message if result else "",
    )


def _flaky(outcome: TestOutcome, band: tuple[float, float]) -> FlakyTest | None:
    if not outcome.runs or outcome.passes is None:
        return None
    rate = outcome.passes / outcome.runs
    if not band[0] < rate < band[1]:
        return None
    summary = f"passed {outcome.passes} of {outcome.runs} runs ({rate:.0%})"
    if outcome.blocking:
        suggestion = (
            f"{summary}: consider moving {outcome.test_id} to MONITORING while the "
            f"nondeterminism is investigated; it blocks releases while {outcome.state}"
        )
    else:
        suggestion = f"{summary}: make it deterministic before returning it to a blocking state"
    return FlakyTest(outcome.test_id, outcome.state, outcome.runs, outcome.passes, rate, suggestion)


def _suite_finding(test: RegressionRecord, suite: str | None, known: Sequence[str],
                   locations: Locations | None, blocking: bool) -> Finding:
    test_id, state, own = record_test_id(test), str(test.get("state")), str(test.get("suite"))
    path, line, col = (locations or {}).get(test_id, (f"regressions/{test_id}.yaml", 1, 1))
    if suite is None:
        effect = "`gate --suite` would leave it out"
    elif blocking:
        effect = f"judged with suite {suite}, and it blocks the release until its suite is fixed"
    else:
        effect = f"judged with suite {suite} ({state}, not blocking)"
    return Finding(
        path, line, col, FINDING_ERROR if blocking and suite is not None else FINDING_WARNING, UNKNOWN_SUITE,
        f"{test_id} ({state}) names suite '{own}', which the policy does not declare: {effect}",
        suite_hint(own, known) + "; fix the test's suite, or declare the suite in the policy (a reviewed change)",
    )


def decide(
    tests: Sequence[RegressionRecord],
    results: Sequence[TestResult],
    policy: Mapping[str, Any],
    suite: str | None = None,
    locations: Locations | None = None,
) -> GateDecision:
    """Judge ``results`` against the regression ``tests`` under ``policy``.

    ``tests`` are regression-test records (mappings with test_id, suite, state,
    expected_block_turn, severity_weight...), including RETIRED ones so that
    their stray results are recognised. ``results`` may repeat a test id: repeats
    are combined (see :func:`combine_results`). With ``suite``, tests of other
    declared suites and their results are ignored; without it, every suite counts.
    ``locations`` (test id -> path, line, col of its ``suite:`` value) places the
    ``gate.unknown-suite`` findings. Raises :class:`IncidentOpsError` for a
    ``suite`` the policy does not declare.
    """
    check_suite_option(policy, suite)
    by_id = {r.test_id: r for r in combine_results(results)}
    known = {record_test_id(t) for t in tests}
    suites = known_suites(policy)
    runnable, blockers, band = run_states(policy), blocking_states(policy), flaky_band(policy)
    per_test: list[TestOutcome] = []
    warnings: list[GateWarning] = []
    flaky: list[FlakyTest] = []
    findings: list[Finding] = []
    strays = [t for t in tests if t.get("suite") not in suites and str(t.get("state")) in runnable]
    chosen = select_suite(tests, policy, suite)
    stray_ids = {record_test_id(t) for t in strays}
    judged = sorted({record_test_id(t): t for t in [*chosen, *strays]}.values(), key=record_test_id)
    for test in judged:
        test_id, state = record_test_id(test), str(test.get("state"))
        result = by_id.get(test_id)
        if state not in runnable:
            if result is not None:
                warnings.append(
                    GateWarning(
                        test_id,
                        f"result for {state} test {test_id}: it no longer runs; drop it from the suite",
                        result.source,
                    )
                )
            continue
        outcome = _outcome(test, result, state in blockers)
        if test_id in stray_ids:
            finding = _suite_finding(test, suite, suites, locations, state in blockers)
            findings.append(finding)
            if finding.is_error:
                problem = f"suite '{test.get('suite')}' is not declared by the policy ({finding.location()})"
                outcome = replace(outcome, verdict=VERDICT_BLOCK,
                                  reason="; ".join(r for r in (problem, outcome.reason) if r))
            else:
                warnings.append(GateWarning(test_id, finding.message, finding.location()))
        per_test.append(outcome)
        if outcome.verdict == VERDICT_WARN:
            warnings.append(GateWarning(
                    test_id, f"{test_id} ({state}, not blocking): {outcome.reason}", outcome.source
                ))
        found = _flaky(outcome, band)
        if found:
            flaky.append(found)
    for test_id, result in by_id.items():
        if test_id not in known:
            warnings.append(
                GateWarning(
                    test_id,
                    f"result for unknown test {test_id}: no regression record has this id",
                    result.source,
                )
            )
    ran = [o for o in per_test if o.outcome in (PASS, FAIL, ERROR)]
    ran_weight = sum(o.severity_weight for o in ran)
    failed_weight = sum(o.severity_weight for o in ran if o.counted_as_failed)
    blocking = tuple(o for o in per_test if o.verdict == VERDICT_BLOCK)
    return GateDecision(
        decision=BLOCK_DECISION if blocking else PASS_DECISION,
        suite=suite,
        blocking=blocking,
        warnings=tuple(warnings),
        missing=tuple(o.test_id for o in per_test if o.outcome == MISSING),
        flaky=tuple(flaky),
        score=failed_weight / ran_weight if ran_weight else 0.0,
        tests_run=len(ran),
        per_test=tuple(per_test),
        findings=tuple(findings),
    )
