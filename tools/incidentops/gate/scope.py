"""Which regression tests a gate run or an export covers, read from the policy."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from incidentops.lifecycle.ceremony import known_suites
from incidentops.records.errors import IncidentOpsError

DEFAULT_RUN_STATES = ("ACTIVE", "MONITORING", "DEPRECATED")
DEFAULT_BLOCKING_STATES = ("ACTIVE",)
DEFAULT_FLAKY_BAND = (0.2, 0.95)

RegressionRecord = Mapping[str, Any]


def _regression(policy: Mapping[str, Any]) -> Mapping[str, Any]:
    section = policy.get("regression")
    return section if isinstance(section, Mapping) else {}


def run_states(policy: Mapping[str, Any]) -> frozenset[str]:
    """States whose tests run in CI (policy ``regression.run_states``); never RETIRED."""
    states = _regression(policy).get("run_states", DEFAULT_RUN_STATES)
    return frozenset(str(s) for s in states) - {"RETIRED"}


def blocking_states(policy: Mapping[str, Any]) -> frozenset[str]:
    """States whose failures block a release (policy ``regression.blocking_states``)."""
    states = _regression(policy).get("blocking_states", DEFAULT_BLOCKING_STATES)
    return frozenset(str(s) for s in states) & run_states(policy)


def flaky_band(policy: Mapping[str, Any]) -> tuple[float, float]:
    """Pass rates strictly inside ``(min, max)`` are flaky (policy ``gate.flaky_pass_rate``)."""
    gate = policy.get("gate")
    band = gate.get("flaky_pass_rate") if isinstance(gate, Mapping) else None
    if not isinstance(band, Mapping):
        return DEFAULT_FLAKY_BAND
    return float(band.get("min", DEFAULT_FLAKY_BAND[0])), float(band.get("max", DEFAULT_FLAKY_BAND[1]))


DEFAULT_PASS_THRESHOLD = (1, 1)


def _threshold(value: Any, where: str) -> tuple[int, int]:
    ok = isinstance(value, Mapping) and set(value) == {"passes", "runs"} and all(
        isinstance(value[k], int) and not isinstance(value[k], bool) for k in ("passes", "runs"))
    if not ok or not 1 <= value["passes"] <= value["runs"]:
        raise IncidentOpsError(
            f"{where}: pass_threshold is {dict(value) if isinstance(value, Mapping) else value!r}, not a threshold",
            "write pass_threshold: {passes: 8, runs: 10} (pass at least 8 of every 10 runs, "
            "with at least 10 runs), 1 <= passes <= runs",
        )
    return int(value["passes"]), int(value["runs"])


def pass_threshold(policy: Mapping[str, Any], test: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """(passes, runs): a check passes when it ran at least ``runs`` times and passed ``passes`` of every ``runs``.

    The test's own ``pass_threshold`` wins over policy ``gate.pass_threshold``; the
    default (1, 1) means every run must pass.
    """
    if test is not None and test.get("pass_threshold") is not None:
        return _threshold(test.get("pass_threshold"), f"regression test {test.get('test_id')}")
    gate = policy.get("gate")
    value = gate.get("pass_threshold") if isinstance(gate, Mapping) else None
    return DEFAULT_PASS_THRESHOLD if value is None else _threshold(value, "policy gate")


def suite_hint(suite: str, known: Sequence[str]) -> str:
    """``did you mean 'x'?`` when ``suite`` is close to a known suite, and the known suites."""
    close = difflib.get_close_matches(suite, list(known), n=1, cutoff=0.6)
    guess = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(known) if known else "none"
    return f"{guess}the policy's suites (incidentops.yaml regression.suites): {listed}"


def check_suite_option(policy: Mapping[str, Any], suite: str | None) -> None:
    """Refuse a ``--suite`` the policy does not declare: a typo must not pick an empty or partial suite."""
    if suite is None:
        return
    known = known_suites(policy)
    if suite not in known:
        raise IncidentOpsError(f"unknown suite '{suite}': the policy declares no such suite", suite_hint(suite, known))


def record_test_id(test: RegressionRecord) -> str:
    """The record's ``test_id``; a record without one is a caller bug surfaced as a user error."""
    test_id = test.get("test_id")
    if not isinstance(test_id, str) or not test_id:
        raise IncidentOpsError(
            f"a regression test record has no test_id (incident {test.get('incident_id', '?')})",
            "run `incidentops validate` and fix the regression records first",
        )
    return test_id


def select_suite(
    tests: Sequence[RegressionRecord], policy: Mapping[str, Any], suite: str | None
) -> list[RegressionRecord]:
    """The tests of ``suite`` (all suites when None), sorted by test_id.

    A suite no test belongs to is refused (unless it is the policy's
    ``default_suite``): a typo in ``--suite`` must never turn into an empty, passing gate.
    """
    chosen = [t for t in tests if suite is None or t.get("suite") == suite]
    if suite is not None and not chosen and suite != _regression(policy).get("default_suite"):
        known = sorted({str(t.get("suite")) for t in tests if t.get("suite")})
        raise IncidentOpsError(
            f"no regression test belongs to suite {suite!r}",
            f"known suites: {', '.join(known)}" if known else "no regression test names a suite yet",
        )
    return sorted(chosen, key=record_test_id)
