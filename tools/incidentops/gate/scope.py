"""Which regression tests a gate run or an export covers, read from the policy."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from incidentops.lifecycle.ceremony import known_suites
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Policy, RegressionTest, State, Threshold

DEFAULT_PASS_THRESHOLD = (1, 1)


def run_states(policy: Policy) -> frozenset[str]:
    """States whose tests run in CI (policy ``regression.run_states``); never RETIRED."""
    return frozenset(str(s) for s in policy.regression.run_states) - {State.RETIRED.value}


def blocking_states(policy: Policy) -> frozenset[str]:
    """States whose failures block a release (policy ``regression.blocking_states``)."""
    return frozenset(str(s) for s in policy.regression.blocking_states) & run_states(policy)


def flaky_band(policy: Policy) -> tuple[float, float]:
    """Pass rates strictly inside ``(min, max)`` are flaky (policy ``gate.flaky_pass_rate``)."""
    band = policy.gate.flaky_pass_rate
    return band.min, band.max


def _threshold(value: Threshold, where: str) -> tuple[int, int]:
    if not 1 <= value.passes <= value.runs:
        raise IncidentOpsError(
            f"{where}: pass_threshold is {{'passes': {value.passes}, 'runs': {value.runs}}}, not a threshold",
            "write pass_threshold: {passes: 8, runs: 10} (pass at least 8 of every 10 runs, "
            "with at least 10 runs), 1 <= passes <= runs",
        )
    return value.passes, value.runs


def pass_threshold(policy: Policy, test: RegressionTest | None = None) -> tuple[int, int]:
    """(passes, runs): a check passes when it ran at least ``runs`` times and passed ``passes`` of every ``runs``.

    The test's own ``pass_threshold`` wins over policy ``gate.pass_threshold``; the
    default (1, 1) means every run must pass.
    """
    if test is not None and test.pass_threshold is not None:
        return _threshold(test.pass_threshold, f"regression test {test.test_id}")
    value = policy.gate.pass_threshold
    return DEFAULT_PASS_THRESHOLD if value is None else _threshold(value, "policy gate")


def suite_hint(suite: str, known: Sequence[str]) -> str:
    """``did you mean 'x'?`` when ``suite`` is close to a known suite, and the known suites."""
    close = difflib.get_close_matches(suite, list(known), n=1, cutoff=0.6)
    guess = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(known) if known else "none"
    return f"{guess}the policy's suites (incidentops.yaml regression.suites): {listed}"


def check_suite_option(policy: Policy, suite: str | None) -> None:
    """Refuse a ``--suite`` the policy does not declare: a typo must not pick an empty or partial suite."""
    if suite is None:
        return
    known = known_suites(policy)
    if suite not in known:
        raise IncidentOpsError(f"unknown suite '{suite}': the policy declares no such suite", suite_hint(suite, known))


def select_suite(tests: Sequence[RegressionTest], policy: Policy, suite: str | None) -> list[RegressionTest]:
    """The tests of ``suite`` (all suites when None), sorted by test_id.

    A suite no test belongs to is refused (unless it is the policy's
    ``default_suite``): a typo in ``--suite`` must never turn into an empty, passing gate.
    """
    chosen = [t for t in tests if suite is None or t.suite == suite]
    if suite is not None and not chosen and suite != policy.regression.default_suite:
        known = sorted({t.suite for t in tests if t.suite})
        raise IncidentOpsError(
            f"no regression test belongs to suite {suite!r}",
            f"known suites: {', '.join(known)}" if known else "no regression test names a suite yet",
        )
    return sorted(chosen, key=lambda t: t.test_id)
