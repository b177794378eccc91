"""The release gate: regression tests + their results + policy -> PASS or BLOCK.

Rules (the seed's "If test fails -> BLOCK", made precise):

- A test in a blocking state (policy ``regression.blocking_states``: ACTIVE) blocks
  the release when it failed, errored, was skipped, has no result at all, failed
  any of its repeated runs, or refused later than its ``expected_block_turn``.
- The same problems in MONITORING or DEPRECATED tests are warnings, never blocking.
- Results for ids no record has, or for RETIRED tests, are warnings.
- Results are runs of one another only with the same test id, check and model
  (:func:`combine_results`). Results naming several models are judged per model, each
  with its own decision (``model`` picks one); results naming none count for every model.
  A test passes when every check passes. A check with repeated runs passes when it ran
  at least ``runs`` times and passed at least ``passes`` of every ``runs`` (the test's
  ``pass_threshold``, else policy ``gate.pass_threshold``; default 1 of 1: every run).
  A run that refused later than ``expected_block_turn`` is a failed run.
- Repeated runs whose pass rate lies strictly inside policy ``gate.flaky_pass_rate``
  are listed as flaky (never a check that failed every run), with the rate's 95%
  Wilson interval and, for an ACTIVE test, the suggestion to move it to MONITORING.
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

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from incidentops.gate.matching import match_ids
from incidentops.gate.results import combine_results
from incidentops.gate.scope import (
    blocking_states,
    check_suite_option,
    flaky_band,
    pass_threshold,
    run_states,
    select_suite,
    suite_hint,
)
from incidentops.gate.testresult import ERROR, FAIL, OUTCOME_RANK, PASS, SKIP, TestResult
from incidentops.lifecycle.ceremony import known_suites
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import ERROR as FINDING_ERROR
from incidentops.records.findings import WARNING as FINDING_WARNING
from incidentops.records.findings import Finding
from incidentops.records.model import Policy, RegressionTest

PASS_DECISION = "PASS"
BLOCK_DECISION = "BLOCK"
MISSING = "missing"

VERDICT_PASS = "pass"
VERDICT_BLOCK = "block"
VERDICT_WARN = "warn"

UNKNOWN_SUITE = "gate.unknown-suite"

#: test_id -> (path, line, col) of the record's ``suite:`` value, for findings (default: the record's own)
Locations = Mapping[str, tuple[str, int, int]]


@dataclass(frozen=True, slots=True)
class RunSeries:
    """The repeated runs of one check of one test (for one model): count, passes, 95% Wilson interval."""

    check: str | None
    runs: int
    passes: int
    pass_rate: float
    interval: tuple[float, float]
    threshold: tuple[int, int]


def wilson(passes: int, runs: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of ``passes`` out of ``runs`` (95% by default); (0, 1) for no runs."""
    if runs <= 0:
        return (0.0, 1.0)
    rate = passes / runs
    denominator = 1 + z * z / runs
    centre = (rate + z * z / (2 * runs)) / denominator
    margin = z * math.sqrt(rate * (1 - rate) / runs + z * z / (4 * runs * runs)) / denominator
    return (max(0.0, centre - margin), min(1.0, centre + margin))


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
    model: str | None = None
    series: tuple[RunSeries, ...] = ()


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
    model: str | None = None
    check: str | None = None
    interval: tuple[float, float] = (0.0, 1.0)


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
    #: the model judged (None: results name no model)
    model: str | None = None
    #: one decision per model when results name several and no model was picked
    models: tuple[GateDecision, ...] = ()

    @property
    def passed(self) -> bool:
        return self.decision == PASS_DECISION


_LATE = "blocked at turn "


def _late(result: TestResult, expected: int | None) -> TestResult:
    """A passing result that refused after ``expected`` is a failed run (every run, when it reports several)."""
    turn = result.blocked_at_turn
    if result.outcome != PASS or turn is None or expected is None or turn <= expected:
        return result
    return replace(result, outcome=FAIL, passes=0 if result.runs is not None else None,
                   message=f"{_LATE}{turn}, expected at or before turn {expected}")


def _series(result: TestResult, threshold: tuple[int, int]) -> RunSeries:
    runs, passes = result.counted_runs, result.counted_passes
    return RunSeries(result.check, runs, passes, passes / runs if runs else 0.0, wilson(passes, runs), threshold)


def _problems(result: TestResult, threshold: tuple[int, int], blocking: bool) -> tuple[list[str], bool]:
    """(what went wrong, counts as failed) for one check's result (one run or several)."""
    detail = f": {result.message}" if result.message else ""
    need_passes, need_runs = threshold
    runs, passes = result.counted_runs, result.counted_passes
    problems: list[str] = []
    if result.runs is None and runs <= 1:
        if result.outcome == FAIL and result.message.startswith(_LATE):
            problems.append(result.message)
        elif result.outcome == FAIL:
            problems.append(f"failed{detail}")
        elif result.outcome == ERROR:
            problems.append(f"errored{detail}")
        elif result.outcome == SKIP:
            problems.append(f"skipped{detail}")
        late = result.outcome == FAIL and result.message.startswith(_LATE)
        failed = result.outcome in (FAIL, ERROR) and (blocking or not late)
    else:
        failed = runs == 0 or passes * need_runs < need_passes * runs
        if result.outcome == SKIP or runs == 0:
            problems.append(f"skipped{detail}")
        if failed and runs:
            needs = f", needs {need_passes} of {need_runs}" if threshold != (1, 1) else ""
            if result.message:
                problems.append(f"failed: {result.message} ({runs - passes} of {runs} runs failed{needs})")
            else:
                problems.append(f"failed {runs - passes} of {runs} runs{needs.replace(',', ';', 1)}")
    if runs < need_runs and runs > 0:
        problems.append(f"ran {runs} of the {need_runs} runs required")
        failed = True
    return problems, failed


def _outcome(test: RegressionTest, series: Sequence[TestResult], blocking: bool,
             threshold: tuple[int, int], model: str | None, near: str) -> TestOutcome:
    expected = test.expected_block_turn
    problems: list[str] = []
    failed = False
    for result in series:
        found, bad = _problems(result, threshold, blocking)
        label = f"{result.check}: " if len(series) > 1 and result.check else ""
        problems += [label + p for p in found]
        failed = failed or bad
    if not series:
        problems.append("no result: missing from every results file" + near)
    runs = [_series(r, threshold) for r in series]
    worst = min(runs, key=lambda r: (r.pass_rate, -r.runs), default=None)
    turns = [r.blocked_at_turn for r in series if r.blocked_at_turn is not None]
    verdict = VERDICT_PASS if not problems else VERDICT_BLOCK if blocking else VERDICT_WARN
    stated = [r for r in series if r.runs is not None or r.counted_runs > 1]
    return TestOutcome(
        test_id=test.test_id,
        state=str(test.state),
        blocking=blocking,
        outcome=max((r.outcome for r in series), key=OUTCOME_RANK.__getitem__) if series else MISSING,
        verdict=verdict,
        reason="; ".join(problems),
        severity_weight=test.severity_weight,
        expected_block_turn=expected,
        blocked_at_turn=max(turns) if turns else None,
        runs=worst.runs if worst is not None and (stated or len(series) > 1) else None,
        passes=worst.passes if worst is not None and (stated or len(series) > 1) else None,
        counted_as_failed=failed,
        source="; ".join(dict.fromkeys(r.source for r in series if r.source)),
        message="; ".join(dict.fromkeys(r.message for r in series if r.message)),
        model=model,
        series=tuple(r for r in runs if r.runs > 1 or r.threshold[1] > 1),
    )


def _flaky(outcome: TestOutcome, band: tuple[float, float]) -> list[FlakyTest]:
    found = []
    for series in outcome.series:
        if series.runs < 2 or series.passes == 0 or not band[0] < series.pass_rate < band[1]:
            continue
        low, high = series.interval
        summary = (f"passed {series.passes} of {series.runs} runs ({series.pass_rate:.0%}; "
                   f"95% interval {low:.0%}-{high:.0%})")
        if outcome.blocking and outcome.verdict == VERDICT_BLOCK:
            suggestion = (
                f"{summary}: consider moving {outcome.test_id} to MONITORING while the "
                f"nondeterminism is investigated; it blocks releases while {outcome.state}"
            )
        elif outcome.blocking:
            passes, runs = series.threshold
            suggestion = f"{summary}: within its threshold of {passes} of {runs} runs; it still blocks below it"
        else:
            suggestion = f"{summary}: make it deterministic before returning it to a blocking state"
        found.append(FlakyTest(outcome.test_id, outcome.state, series.runs, series.passes, series.pass_rate,
                               suggestion, outcome.model, series.check, series.interval))
    return found


def _suite_finding(test: RegressionTest, suite: str | None, known: Sequence[str],
                   locations: Locations | None, blocking: bool) -> Finding:
    test_id, state, own = test.test_id, str(test.state), test.suite
    path, line, col = (locations or {}).get(test_id, (test.source.path, *test.source.where("suite")))
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


def _decide_one(
    tests: Sequence[RegressionTest],
    results: Sequence[TestResult],
    policy: Policy,
    suite: str | None,
    locations: Locations | None,
    near: Mapping[str, str],
    model: str | None,
) -> GateDecision:
    known = {t.test_id for t in tests}
    expected = {t.test_id: t.expected_block_turn for t in tests}
    combined = combine_results(_late(r, expected.get(r.test_id)) for r in results)
    by_id: dict[str, list[TestResult]] = {}
    for result in combined:
        by_id.setdefault(result.test_id, []).append(result)
    suites = known_suites(policy)
    runnable, blockers, band = run_states(policy), blocking_states(policy), flaky_band(policy)
    per_test: list[TestOutcome] = []
    warnings: list[GateWarning] = []
    flaky: list[FlakyTest] = []
    findings: list[Finding] = []
    strays = [t for t in tests if t.suite not in suites and t.state in runnable]
    chosen = select_suite(tests, policy, suite)
    stray_ids = {t.test_id for t in strays}
    judged = sorted({t.test_id: t for t in [*chosen, *strays]}.values(), key=lambda t: t.test_id)
    for test in judged:
        test_id, state = test.test_id, str(test.state)
        series = by_id.get(test_id, [])
        if state not in runnable:
            if series:
                warnings.append(
                    GateWarning(
                        test_id,
                        f"result for {state} test {test_id}: it no longer runs; drop it from the suite",
                        series[0].source,
                    )
                )
            continue
        misses = [name for name, guess in near.items() if guess == test_id]
        hint = f" (did you mean {', '.join(misses)}? a result names it)" if misses and not series else ""
        outcome = _outcome(test, series, state in blockers, pass_threshold(policy, test), model, hint)
        if test_id in stray_ids:
            finding = _suite_finding(test, suite, suites, locations, state in blockers)
            findings.append(finding)
            if finding.is_error:
                problem = f"suite '{test.suite}' is not declared by the policy ({finding.location()})"
                outcome = replace(outcome, verdict=VERDICT_BLOCK,
                                  reason="; ".join(r for r in (problem, outcome.reason) if r))
            else:
                warnings.append(GateWarning(test_id, finding.message, finding.location()))
        per_test.append(outcome)
        if outcome.verdict == VERDICT_WARN:
            warnings.append(GateWarning(
                    test_id, f"{test_id} ({state}, not blocking): {outcome.reason}", outcome.source
                ))
        flaky.extend(_flaky(outcome, band))
    for test_id, group in by_id.items():
        if test_id not in known:
            guess = near.get(test_id)
            also = f"; did you mean {guess}?" if guess else ""
            warnings.append(
                GateWarning(
                    test_id,
                    f"result for unknown test {test_id}: no regression record has this id{also}",
                    group[0].source,
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
        model=model,
    )


def result_models(results: Sequence[TestResult]) -> list[str]:
    """The models results name, sorted (runners write results in no fixed order)."""
    return sorted({r.model for r in results if r.model is not None})


def _check_model(model: str, models: Sequence[str]) -> None:
    if model in models:
        return
    close = difflib.get_close_matches(model, list(models), n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(models) if models else "none (the results name no model)"
    raise IncidentOpsError(f"no results for model '{model}'", f"{guess}the models the results name: {listed}")


def decide(
    tests: Sequence[RegressionTest],
    results: Sequence[TestResult],
    policy: Policy,
    suite: str | None = None,
    locations: Locations | None = None,
    model: str | None = None,
) -> GateDecision:
    """Judge ``results`` against the regression ``tests`` under ``policy``.

    ``tests`` are the typed regression-test records, including RETIRED ones so
    that their stray results are recognised. Results' ids are matched to the records'
    (:func:`incidentops.gate.matching.match_ids`); repeated runs are combined (see
    :func:`combine_results`). With ``suite``, tests of other declared suites and
    their results are ignored; without it, every suite counts. ``model`` judges the
    results of that model only (and those naming none); without it, results naming
    several models get one decision per model in ``models``, and the release is
    blocked when any model blocks. The ``gate.unknown-suite`` findings stand at each
    record's ``suite:`` value (``locations``, test id -> path, line, col, overrides it). Raises
    :class:`IncidentOpsError` for a ``suite`` the policy does not declare, a ``model``
    no result names, a threshold that is not a threshold, or a result whose name
    matches several tests.
    """
    check_suite_option(policy, suite)
    for test in tests:
        pass_threshold(policy, test)
    matched = match_ids(results, [t.test_id for t in tests])
    models = result_models(matched.results)
    if model is not None:
        _check_model(model, models)
    chosen = [model] if model is not None else models
    if len(chosen) <= 1:
        only = chosen[0] if chosen else None
        subset = [r for r in matched.results if r.model in (only, None)]
        return _decide_one(tests, subset, policy, suite, locations, matched.near, only)
    each = tuple(
        _decide_one(tests, [r for r in matched.results if r.model in (name, None)], policy, suite, locations,
                    matched.near, name)
        for name in chosen
    )
    blocking = tuple(o for d in each for o in d.blocking)
    return GateDecision(
        decision=BLOCK_DECISION if blocking else PASS_DECISION,
        suite=suite,
        blocking=blocking,
        warnings=tuple(replace(w, message=f"[{d.model}] {w.message}") for d in each for w in d.warnings),
        missing=tuple(dict.fromkeys(f"{t} [{d.model}]" for d in each for t in d.missing)),
        flaky=tuple(f for d in each for f in d.flaky),
        score=max(d.score for d in each),
        tests_run=sum(d.tests_run for d in each),
        per_test=tuple(o for d in each for o in d.per_test),
        findings=each[0].findings,
        model=None,
        models=each,
    )
