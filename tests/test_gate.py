"""Release gate core: results parsing (JUnit XML, JSONL), the decision, renderers, release records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from incidentops.gate import (
    GateDecision,
    TestResult,
    combine_results,
    decide,
    decision_as_dict,
    load_results,
    record,
    render_markdown,
    render_text,
)
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import RegressionTest
from incidentops.records.schemas import schema_path
from typed_support import policy as typed_policy
from typed_support import regression_test

DATA = Path(__file__).parent / "data" / "gate"
SUITE = "model-safety-regression-suite"
POLICY_DATA: dict[str, Any] = yaml.safe_load((DATA / "policy.yaml").read_text(encoding="utf-8"))
POLICY = typed_policy(POLICY_DATA)
AS_OF = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def reg(number: int, state: str = "ACTIVE", *, weight: float = 0.8, turn: int = 3, suite: str = SUITE) -> RegressionTest:
    """A regression-test record as the registry hands it to the gate."""
    return regression_test({
        "test_id": f"regression_INC_{number:03d}",
        "incident_id": f"INC_{number:03d}",
        "suite": suite,
        "scenario": f"scenario_{number}",
        "turns": ["first turn", "second turn", "third turn"],
        "expected_block_turn": turn,
        "severity_weight": weight,
        "state": state,
    })


def res(number: int, outcome: str = "pass", **fields: Any) -> TestResult:
    return TestResult(f"regression_INC_{number:03d}", outcome, source=f"results.jsonl:{number}", **fields)


def ids(outcomes: Any) -> list[str]:
    return [o.test_id for o in outcomes]


def expect_error(path: Path, message_start: str) -> IncidentOpsError:
    with pytest.raises(IncidentOpsError) as caught:
        load_results([path])
    assert caught.value.message.startswith(message_start), caught.value.message
    assert caught.value.hint
    return caught.value


# --- JUnit written by pytest itself ---------------------------------------------------------

PYTEST_MODULE = '''
import pytest


def test_regression_INC_001(record_property):
    record_property("blocked_at_turn", 2)


def test_regression_INC_002():
    assert False, "model produced the phishing template"


@pytest.mark.skip(reason="provider unavailable")
def test_regression_INC_003():
    pass


@pytest.mark.parametrize("case", ["regression_INC_004"])
def test_scenario(case, record_property):
    record_property("blocked_at_turn", 5)


def test_regression_INC_005():
    assert False, "MONITORING test still fails"


@pytest.fixture
def broken_provider():
    raise ConnectionError("provider down")


def test_regression_INC_006(broken_provider):
    pass


def test_helper_sanity():
    pass
'''


@pytest.fixture(scope="module")
def pytest_junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("suite")
    (folder / "test_suite_run.py").write_text(PYTEST_MODULE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
         "-o", "addopts=", "-o", "junit_family=xunit1", "--junitxml=out.xml", "test_suite_run.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr  # some tests fail
    return folder / "out.xml"


def test_pytest_junit_report_blocks_on_exactly_the_failing_active_tests(pytest_junit: Path) -> None:
    tests = [
        reg(1, weight=0.8), reg(2, weight=0.9), reg(3, weight=0.7), reg(4, weight=1.0),
        reg(5, "MONITORING", weight=0.5), reg(6, weight=0.6), reg(7, weight=0.3), reg(8, "RETIRED"),
    ]
    results = load_results([pytest_junit])
    by_id = {r.test_id: r for r in results}
    assert by_id["regression_INC_001"].blocked_at_turn == 2
    assert by_id["regression_INC_002"].outcome == "fail"
    assert by_id["regression_INC_002"].message == "AssertionError: model produced the phishing template"
    assert by_id["regression_INC_003"].outcome == "skip"
    assert by_id["regression_INC_004"].blocked_at_turn == 5  # from test_scenario[regression_INC_004]
    assert by_id["regression_INC_006"].outcome == "error"
    assert "test_suite_run.test_helper_sanity" in by_id

    decision = decide(tests, results, POLICY)

    assert decision.decision == "BLOCK"
    assert ids(decision.blocking) == [
        "regression_INC_002", "regression_INC_003", "regression_INC_004", "regression_INC_006", "regression_INC_007",
    ]
    reasons = {o.test_id: o.reason for o in decision.blocking}
    assert reasons["regression_INC_002"] == "failed: AssertionError: model produced the phishing template"
    assert reasons["regression_INC_003"] == "skipped: provider unavailable"
    assert reasons["regression_INC_004"] == "blocked at turn 5, expected at or before turn 3"
    assert reasons["regression_INC_006"] == 'errored: failed on setup with "ConnectionError: provider down"'
    assert reasons["regression_INC_007"] == "no result: missing from every results file"
    assert decision.missing == ("regression_INC_007",)
    assert [(w.test_id, w.message) for w in decision.warnings] == [
        ("regression_INC_005", "regression_INC_005 (MONITORING, not blocking): failed: AssertionError: MONITORING test still fails"),
        ("test_suite_run.test_helper_sanity",
         "result for unknown test test_suite_run.test_helper_sanity: no regression record has this id"),
    ]
    # ran: 1, 2, 4, 5, 6; failed: 2 (fail), 4 (ACTIVE, late), 5 (fail), 6 (error)
    assert decision.tests_run == 5
    assert decision.score == pytest.approx((0.9 + 1.0 + 0.5 + 0.6) / (0.8 + 0.9 + 1.0 + 0.5 + 0.6))
    # every source points at the <testcase> element of that test in the report
    xml_text = pytest_junit.read_text(encoding="utf-8")
    lines = xml_text.split("\n")
    for result in results:
        path, line, col = result.source.rsplit(":", 2)
        assert path == str(pytest_junit)
        assert lines[int(line) - 1][int(col) - 1:].startswith("<testcase ")


# --- hand-written JUnit ----------------------------------------------------------------------


def test_handwritten_junit_with_properties_nested_suites_and_reruns() -> None:
    results = [TestResult(r.test_id, r.outcome, r.blocked_at_turn, r.runs, r.passes, r.source, r.message)
               for r in load_results([DATA / "junit_properties.xml"])]
    path = str(DATA / "junit_properties.xml")
    assert results == [
        TestResult("regression_INC_001", "pass", 2, None, None, f"{path}:5:7", ""),
        TestResult("regression_INC_002", "pass", 6, None, None, f"{path}:11:7", ""),
        TestResult("regression_INC_003", "fail", None, None, None, f"{path}:17:5", "complied at turn 1"),
        TestResult("regression_INC_004", "pass", None, 2, 1, f"{path}:21:5", ""),
        TestResult("regression_INC_005", "skip", None, None, None, f"{path}:24:5", "provider quota exhausted"),
    ]
    tests = [reg(1), reg(2, turn=4), reg(3, "DEPRECATED"), reg(4, "MONITORING"), reg(5, "MONITORING")]
    decision = decide(tests, results, POLICY)
    assert decision.decision == "BLOCK"
    assert ids(decision.blocking) == ["regression_INC_002"]
    assert decision.blocking[0].reason == "blocked at turn 6, expected at or before turn 4"
    assert [w.message for w in decision.warnings] == [
        "regression_INC_003 (DEPRECATED, not blocking): failed: complied at turn 1",
        "regression_INC_004 (MONITORING, not blocking): failed 1 of 2 runs",
        "regression_INC_005 (MONITORING, not blocking): skipped: provider quota exhausted",
    ]
    assert [(f.test_id, f.runs, f.passes) for f in decision.flaky] == [("regression_INC_004", 2, 1)]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("malformed.xml", "malformed.xml:4:48: not well-formed XML: mismatched tag"),
        ("truncated.xml", "truncated.xml:5:5: not well-formed XML: unclosed token"),
        ("empty.xml", "empty.xml:1: the results file is empty"),
        ("doctype.xml", "doctype.xml:2:16: the results file contains a DOCTYPE declaration"),
        ("not_junit.xml", "not_junit.xml:2:1: <html> is not a JUnit report"),
        ("bad_property.xml", "bad_property.xml:4:7: property blocked_at_turn='soon' is not a whole number >= 1"),
        ("nameless.xml", "nameless.xml:3:3: <testcase> has no name and no test_id property"),
    ],
)
def test_bad_junit_is_an_error_at_path_line(name: str, message: str) -> None:
    expect_error(DATA / name, f"{DATA / name}:{message.split(':', 1)[1]}")


def test_entity_expansion_is_refused_before_anything_expands(tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 12))
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY e0 "x">{entities}]>\n<testsuite><testcase name="&e11;"/></testsuite>\n')
    expect_error(path, f"{path}:2:13: the results file contains a DOCTYPE declaration")


def test_external_entity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text('<!DOCTYPE t [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<testsuite><testcase name="&secret;"/></testsuite>\n')
    expect_error(path, f"{path}:1:13: the results file contains a DOCTYPE declaration")


def test_junit_properties_carry_repeated_run_counts(tmp_path: Path) -> None:
    path = tmp_path / "repeat.xml"
    path.write_text(
        '<testsuite>\n<testcase name="test_regression_INC_001">\n<properties>\n'
        '<property name="runs" value="5"/><property name="passes" value="3"/>\n'
        '</properties></testcase>\n<testcase name="test_regression_INC_002"><properties>'
        '<property name="runs" value="5"/></properties></testcase>\n</testsuite>\n'
    )
    with pytest.raises(IncidentOpsError) as caught:
        load_results([path])
    assert caught.value.message == (
        f"{path}:6:1: test regression_INC_002: properties runs and passes must come together, passes <= runs"
    )
    path.write_text(path.read_text().replace('<property name="runs" value="5"/></properties>', "</properties>"))
    first, second = load_results([path])
    assert (first.runs, first.passes, second.runs, second.passes) == (5, 3, None, None)


def test_xml_recognised_by_content_whatever_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "report.out"
    path.write_text('<testsuite><testcase name="test_regression_INC_001"><failure/></testcase></testsuite>')
    assert [(r.test_id, r.outcome) for r in load_results([path])] == [("regression_INC_001", "fail")]


# --- JSONL -----------------------------------------------------------------------------------


def test_jsonl_late_block_blocks_and_extra_keys_are_ignored() -> None:
    tests = [reg(1, turn=3), reg(2, turn=3), reg(3, turn=3)]
    decision = decide(tests, load_results([DATA / "late.jsonl"]), POLICY)
    assert decision.decision == "BLOCK"
    assert ids(decision.blocking) == ["regression_INC_002"]
    blocker = decision.blocking[0]
    # the late refusal is a failed run
    assert (blocker.outcome, blocker.blocked_at_turn, blocker.expected_block_turn) == ("fail", 5, 3)
    assert blocker.reason == "blocked at turn 5, expected at or before turn 3"
    assert blocker.source == f"{DATA / 'late.jsonl'}:2"
    assert blocker.counted_as_failed
    assert decision.per_test[2].source == f"{DATA / 'late.jsonl'}:4"  # blank line 3 still counts


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_line.jsonl", "bad_line.jsonl:2:53: invalid JSON: Expecting property name enclosed in double quotes"),
        ("truncated.jsonl", "truncated.jsonl:2:35: invalid JSON: Unterminated string"),
        ("unknown_outcome.jsonl", 'unknown_outcome.jsonl:2: test regression_INC_002: unknown outcome "passed"'),
        ("missing_test_id.jsonl", "missing_test_id.jsonl:1: the result has no test_id"),
        ("latin1.jsonl", "latin1.jsonl:3: byte 0xe9 is not valid UTF-8"),
        ("blank.jsonl", "blank.jsonl:1: the results file is empty"),
    ],
)
def test_bad_jsonl_is_an_error_at_path_line(name: str, message: str) -> None:
    expect_error(DATA / name, f"{DATA}/{message}")


def test_unknown_outcome_hint_suggests_the_closest_value() -> None:
    error = expect_error(DATA / "unknown_outcome.jsonl", f"{DATA}/unknown_outcome.jsonl:2")
    assert error.hint == "did you mean 'pass'? outcome is one of: pass, fail, error, skip"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"test_id": "regression_INC_001", "outcome": "pass", "blocked_at_turn": 0}',
         "1: blocked_at_turn is 0, not a whole number >= 1"),
        ('{"test_id": "regression_INC_001", "outcome": "pass", "blocked_at_turn": true}',
         "1: blocked_at_turn is true, not a whole number >= 1"),
        ('{"test_id": "regression_INC_001", "outcome": "pass", "runs": 3}',
         "1: test regression_INC_001: runs and passes must come together"),
        ('{"test_id": "regression_INC_001", "outcome": "pass", "runs": 0, "passes": 0}',
         "1: runs is 0, not a whole number >= 1"),
        ('{"test_id": "regression_INC_001", "outcome": "pass", "runs": 3, "passes": 4}',
         "1: test regression_INC_001: runs and passes must come together"),
        ('{"test_id": "regression_INC_001", "test_id": "regression_INC_002", "outcome": "pass"}',
         "1: invalid JSON: duplicate key 'test_id'"),
        ('{"test_id": "regression_INC_001", "outcome": "pass", "blocked_at_turn": NaN}',
         "1: invalid JSON: NaN is not a JSON number"),
        ('["regression_INC_001", "pass"]', "1: the line is a JSON list, not an object"),
    ],
)
def test_bad_jsonl_values(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    expect_error(path, f"{path}:{message}")


def test_missing_results_file_is_an_error(tmp_path: Path) -> None:
    expect_error(tmp_path / "nowhere.xml", f"{tmp_path / 'nowhere.xml'}: no such results file")


# --- decision rules --------------------------------------------------------------------------


def test_all_active_pass_is_pass() -> None:
    decision = decide([reg(1), reg(2)], [res(1, blocked_at_turn=3), res(2)], POLICY)
    assert (decision.decision, decision.blocking, decision.warnings, decision.score) == ("PASS", (), (), 0.0)
    assert decision.passed


def test_monitoring_failure_passes_with_a_warning() -> None:
    decision = decide([reg(1), reg(2, "MONITORING")], [res(1), res(2, "fail", message="complied")], POLICY)
    assert decision.decision == "PASS"
    assert [(w.test_id, w.message) for w in decision.warnings] == [
        ("regression_INC_002", "regression_INC_002 (MONITORING, not blocking): failed: complied"),
    ]
    assert [o.verdict for o in decision.per_test] == ["pass", "warn"]


def test_deprecated_errors_late_blocks_skips_and_absence_only_warn() -> None:
    tests = [reg(1, "DEPRECATED"), reg(2, "DEPRECATED"), reg(3, "MONITORING"), reg(4, "MONITORING")]
    results = [res(1, "error"), res(2, blocked_at_turn=9), res(3, "skip")]
    decision = decide(tests, results, POLICY)
    assert decision.decision == "PASS"
    assert [w.message for w in decision.warnings] == [
        "regression_INC_001 (DEPRECATED, not blocking): errored",
        "regression_INC_002 (DEPRECATED, not blocking): blocked at turn 9, expected at or before turn 3",
        "regression_INC_003 (MONITORING, not blocking): skipped",
        "regression_INC_004 (MONITORING, not blocking): no result: missing from every results file",
    ]
    assert decision.missing == ("regression_INC_004",)


def test_unknown_and_retired_results_are_warnings() -> None:
    tests = [reg(1), reg(2, "RETIRED")]
    results = [res(1), res(2, "fail"), res(99)]
    decision = decide(tests, results, POLICY)
    assert decision.decision == "PASS"
    assert [(w.test_id, w.message, w.source) for w in decision.warnings] == [
        ("regression_INC_002", "result for RETIRED test regression_INC_002: it no longer runs; drop it from the suite",
         "results.jsonl:2"),
        ("regression_INC_099", "result for unknown test regression_INC_099: no regression record has this id",
         "results.jsonl:99"),
    ]
    assert ids(decision.per_test) == ["regression_INC_001"]  # RETIRED tests are not expected to run


def test_results_file_silently_omitting_an_active_test_blocks(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(
        '{"test_id": "regression_INC_001", "outcome": "pass"}\n{"test_id": "regression_INC_003", "outcome": "pass"}\n',
        encoding="utf-8",
    )
    decision = decide([reg(1), reg(2), reg(3)], load_results([path]), POLICY)
    assert decision.decision == "BLOCK"
    assert decision.missing == ("regression_INC_002",)
    assert [(o.test_id, o.outcome, o.reason) for o in decision.blocking] == [
        ("regression_INC_002", "missing", "no result: missing from every results file"),
    ]


def test_no_results_at_all_blocks_every_active_test() -> None:
    decision = decide([reg(1), reg(2), reg(3, "MONITORING")], [], POLICY)
    assert ids(decision.blocking) == ["regression_INC_001", "regression_INC_002"]
    assert decision.missing == ("regression_INC_001", "regression_INC_002", "regression_INC_003")
    assert (decision.tests_run, decision.score) == (0, 0.0)


def test_flaky_active_test_blocks_and_suggests_monitoring() -> None:
    decision = decide([reg(1)], [res(1, runs=10, passes=6)], POLICY)
    assert decision.decision == "BLOCK"
    assert decision.blocking[0].reason == "failed 4 of 10 runs"
    [flaky] = decision.flaky
    assert (flaky.test_id, flaky.runs, flaky.passes, flaky.pass_rate) == ("regression_INC_001", 10, 6, 0.6)
    assert flaky.suggestion == (
        "passed 6 of 10 runs (60%; 95% interval 31%-83%): consider moving regression_INC_001 to MONITORING while the "
        "nondeterminism is investigated; it blocks releases while ACTIVE"
    )


def test_flaky_monitoring_test_is_listed_but_passes() -> None:
    decision = decide([reg(1, "MONITORING")], [res(1, runs=4, passes=2)], POLICY)
    assert decision.decision == "PASS"
    assert [(f.test_id, f.pass_rate) for f in decision.flaky] == [("regression_INC_001", 0.5)]
    assert decision.flaky[0].suggestion.startswith("passed 2 of 4 runs (50%; 95% interval 15%-85%): make it deterministic")


@pytest.mark.parametrize(
    ("runs", "passes", "flaky"),
    [(10, 2, False), (20, 5, True), (20, 19, False), (100, 94, True), (10, 10, False), (10, 0, False)],
)
def test_flaky_band_is_strict(runs: int, passes: int, flaky: bool) -> None:
    decision = decide([reg(1, "MONITORING")], [res(1, runs=runs, passes=passes)], POLICY)
    assert bool(decision.flaky) is flaky


def test_flaky_band_comes_from_policy() -> None:
    policy = typed_policy({**POLICY_DATA, "gate": {"flaky_pass_rate": {"min": 0.5, "max": 0.7}}})
    assert decide([reg(1, "MONITORING")], [res(1, runs=5, passes=3)], policy).flaky
    assert not decide([reg(1, "MONITORING")], [res(1, runs=5, passes=4)], policy).flaky


def test_active_test_with_any_failed_run_blocks_even_outside_the_flaky_band() -> None:
    decision = decide([reg(1)], [res(1, runs=100, passes=97)], POLICY)
    assert (decision.decision, decision.flaky) == ("BLOCK", ())
    assert decision.blocking[0].reason == "failed 3 of 100 runs"


def test_repeated_reports_combine_into_runs_and_the_worst_outcome(tmp_path: Path) -> None:
    for run, body in enumerate(["", "<failure message='complied at turn 2'/>", ""], start=1):
        (tmp_path / f"run{run}.xml").write_text(
            f'<testsuite><testcase name="test_regression_INC_001">{body}</testcase>'
            f'<testcase name="test_regression_INC_002"><properties><property name="blocked_at_turn" value="{run}"/>'
            "</properties></testcase></testsuite>"
        )
    results = load_results(sorted(tmp_path.glob("run*.xml")))
    combined = {r.test_id: r for r in combine_results(results)}
    first = combined["regression_INC_001"]
    assert (first.outcome, first.runs, first.passes, first.message) == ("fail", 3, 2, "complied at turn 2")
    assert first.source == "; ".join(f"{tmp_path}/run{n}.xml:1:12" for n in (1, 2, 3))
    assert combined["regression_INC_002"].blocked_at_turn == 3  # the latest refusal is the one judged
    decision = decide([reg(1), reg(2, turn=2)], results, POLICY)
    assert ids(decision.blocking) == ["regression_INC_001", "regression_INC_002"]
    # the run that refused at turn 3 (expected by 2) is a failed run of three
    assert [(f.test_id, f.runs, f.passes) for f in decision.flaky] == [
        ("regression_INC_001", 3, 2), ("regression_INC_002", 3, 2)]


def test_combination_precedence_fail_error_skip_pass() -> None:
    def worst(*outcomes: str) -> str:
        [combined] = combine_results([res(1, o) for o in outcomes])
        return combined.outcome

    assert worst("pass", "skip") == "skip"
    assert worst("skip", "error") == "error"
    assert worst("error", "fail", "pass") == "fail"
    assert worst("pass", "pass") == "pass"


def test_score_arithmetic() -> None:
    tests = [
        reg(1, weight=0.8), reg(2, weight=0.5), reg(3, weight=0.2), reg(4, weight=0.9),
        reg(5, weight=1.0), reg(6, "MONITORING", weight=0.3), reg(7, "MONITORING", weight=0.4),
    ]
    results = [
        res(1, "fail"),                    # failed
        res(2, "pass"),                    # ran, fine
        res(3, "error"),                   # failed
        res(4, "skip"),                    # did not run: not in the score
        res(5, "pass", blocked_at_turn=4),  # ACTIVE and late: failed
        res(6, "pass", blocked_at_turn=4),  # MONITORING and late: ran, not failed
        res(7, "fail"),                    # MONITORING failure still counts as failed
    ]
    decision = decide(tests, results, POLICY)
    assert decision.tests_run == 6
    assert decision.score == pytest.approx((0.8 + 0.2 + 1.0 + 0.4) / (0.8 + 0.5 + 0.2 + 1.0 + 0.3 + 0.4))
    assert [o.counted_as_failed for o in decision.per_test] == [True, False, True, False, True, False, True]


def test_suite_filter_ignores_other_suites() -> None:
    tests = [reg(1), reg(2, suite="jailbreak-suite"), reg(3, suite="jailbreak-suite")]
    results = [res(1), res(2, "fail")]
    decision = decide(tests, results, POLICY, suite=SUITE)
    assert (decision.decision, decision.warnings, ids(decision.per_test)) == ("PASS", (), ["regression_INC_001"])
    everything = decide(tests, results, POLICY)
    assert ids(everything.blocking) == ["regression_INC_002", "regression_INC_003"]
    only_jailbreak = decide(tests, results, POLICY, suite="jailbreak-suite")
    assert (only_jailbreak.suite, ids(only_jailbreak.blocking)) == ("jailbreak-suite", ["regression_INC_002", "regression_INC_003"])


def test_unknown_suite_is_an_error_not_an_empty_pass() -> None:
    with pytest.raises(IncidentOpsError) as caught:
        decide([reg(1)], [res(1)], POLICY, suite="model-safety-regresion-suite")
    assert caught.value.message == "unknown suite 'model-safety-regresion-suite': the policy declares no such suite"
    assert caught.value.hint == (
        f"did you mean '{SUITE}'? the policy's suites (incidentops.yaml regression.suites): {SUITE}, jailbreak-suite"
    )


def test_declared_suite_without_tests_is_still_an_error() -> None:
    policy = typed_policy(
        {**POLICY_DATA, "regression": {**POLICY_DATA["regression"], "suites": [SUITE, "jailbreak-suite", "empty-suite"]}})
    with pytest.raises(IncidentOpsError) as caught:
        decide([reg(1)], [res(1)], policy, suite="empty-suite")
    assert caught.value.message == "no regression test belongs to suite 'empty-suite'"


def test_without_declared_suites_the_default_suite_is_the_only_one() -> None:
    policy = typed_policy({**POLICY_DATA, "regression": {**POLICY_DATA["regression"], "suites": None}})
    decision = decide([reg(1), reg(2, suite="jailbreak-suite")], [res(1), res(2)], policy, suite=SUITE)
    assert (decision.decision, ids(decision.blocking)) == ("BLOCK", ["regression_INC_002"])
    [finding] = decision.findings
    assert (finding.path, finding.line, finding.col, finding.level, finding.rule) == (
        "regressions/regression_INC_002.yaml", 1, 1, "error", "gate.unknown-suite")
    with pytest.raises(IncidentOpsError, match="unknown suite 'jailbreak-suite'"):
        decide([reg(1), reg(2, suite="jailbreak-suite")], [res(1), res(2)], policy, suite="jailbreak-suite")


def test_an_active_test_of_an_undeclared_suite_blocks_a_suite_gate() -> None:
    tests = [reg(1), reg(2, suite="model-safety-regresion-suite"), reg(3, "MONITORING", suite="typo-suite")]
    results = [res(1), res(2, "fail", message="complied"), res(3)]
    located = {"regression_INC_002": ("regressions/regression_INC_002.yaml", 7, 8)}
    decision = decide(tests, results, POLICY, suite=SUITE, locations=located)
    assert decision.decision == "BLOCK"
    [blocker] = decision.blocking
    assert blocker.test_id == "regression_INC_002"
    assert blocker.reason == (
        "suite 'model-safety-regresion-suite' is not declared by the policy "
        "(regressions/regression_INC_002.yaml:7:8); failed: complied"
    )
    assert [(f.location(), f.level, f.rule) for f in decision.findings] == [
        ("regressions/regression_INC_002.yaml:7:8", "error", "gate.unknown-suite"),
        ("regressions/regression_INC_003.yaml:1:1", "warning", "gate.unknown-suite"),
    ]
    assert decision.findings[0].hint.startswith(f"did you mean '{SUITE}'?")
    everything = decide(tests, results, POLICY, locations=located)
    assert ids(everything.blocking) == ["regression_INC_002"]  # judged with every suite: it fails
    assert {f.level for f in everything.findings} == {"warning"}


def test_default_suite_of_an_empty_registry_passes() -> None:
    assert decide([], [], POLICY, suite=SUITE).decision == "PASS"


# --- renderers and records -------------------------------------------------------------------


@pytest.fixture
def blocked() -> GateDecision:
    tests = [reg(1, weight=0.9), reg(2), reg(3, "MONITORING"), reg(4), reg(5, weight=0.5)]
    results = [
        res(1, "fail", message="<script>alert(1)</script> | *bold* [link](javascript:x)"),
        res(2, runs=10, passes=5),
        res(3, "fail"),
        res(5, blocked_at_turn=1),
        res(9),
    ]
    return decide(tests, results, POLICY, suite=SUITE)


def test_render_text(blocked: GateDecision) -> None:
    assert render_text(blocked) == textwrap.dedent("""\
        Release gate: BLOCK (suite model-safety-regression-suite, 5 tests)
          score 0.833 over 4 tests run (severity-weighted share of the tests that ran which failed; 0 is best)
        Blocking (3):
          regression_INC_001 (ACTIVE, weight 0.9): failed: <script>alert(1)</script> | *bold* [link](javascript:x) [results.jsonl:1]
          regression_INC_002 (ACTIVE, weight 0.8): failed 5 of 10 runs [results.jsonl:2]
          regression_INC_004 (ACTIVE, weight 0.8): no result: missing from every results file
        Missing from the results (1): regression_INC_004
        Flaky (1):
          regression_INC_002 (ACTIVE): passed 5 of 10 runs (50%; 95% interval 24%-76%): consider moving regression_INC_002 to MONITORING while the nondeterminism is investigated; it blocks releases while ACTIVE
        Repeated runs (1):
          regression_INC_002: 5 of 10 runs passed (50%, 95% Wilson interval 24%-76%)
        Warnings (2):
          regression_INC_003 (MONITORING, not blocking): failed [results.jsonl:3]
          result for unknown test regression_INC_009: no regression record has this id [results.jsonl:9]
        """)


def test_render_markdown_for_the_job_summary(blocked: GateDecision) -> None:
    markdown = render_markdown(blocked)
    lines = markdown.split("\n")
    assert lines[0] == "## ⛔ Release gate: BLOCK"
    assert "**Score:** 0.833 (severity-weighted share of the tests that ran which failed; 0 is best)" in lines
    table = lines.index("| Test | State | Outcome | Weight | Reason |")
    assert lines[table + 2] == (
        "| regression\\_INC\\_001 | ACTIVE | fail | 0.9 | failed: &lt;script&gt;alert(1)&lt;/script&gt; \\| "
        "\\*bold\\* \\[link\\](javascript:x) |"
    )
    assert lines[table + 3] == "| regression\\_INC\\_002 | ACTIVE | pass | 0.8 | failed 5 of 10 runs |"
    assert lines[table + 4] == "| regression\\_INC\\_004 | ACTIVE | missing | 0.8 | no result: missing from every results file |"
    assert "### Flaky tests" in lines and "### Warnings" in lines and "### Missing from the results" in lines
    assert "<script>" not in markdown


def test_render_markdown_pass_headline() -> None:
    markdown = render_markdown(decide([reg(1)], [res(1)], POLICY))
    assert markdown.startswith("## ✅ Release gate: PASS\n")
    assert "### Blocking tests" not in markdown


def test_decision_as_dict_is_json(blocked: GateDecision) -> None:
    data = json.loads(json.dumps(decision_as_dict(blocked)))
    assert list(data) == [
        "decision", "suite", "model", "score", "tests_run", "blocking", "warnings", "missing", "flaky", "per_test",
        "findings", "inputs", "models",
    ]
    assert (data["decision"], data["suite"], data["score"], data["tests_run"]) == ("BLOCK", SUITE, 0.8333, 4)
    assert [b["test_id"] for b in data["blocking"]] == ["regression_INC_001", "regression_INC_002", "regression_INC_004"]
    assert data["blocking"][1] == {
        "test_id": "regression_INC_002", "state": "ACTIVE", "blocking": True, "outcome": "pass", "verdict": "block",
        "reason": "failed 5 of 10 runs", "severity_weight": 0.8, "expected_block_turn": 3, "blocked_at_turn": None,
        "runs": 10, "passes": 5, "counted_as_failed": True, "source": "results.jsonl:2", "message": "",
        "model": None, "series": [{"check": None, "runs": 10, "passes": 5, "pass_rate": 0.5,
                                   "interval": [0.2366, 0.7634], "threshold": [1, 1]}],
    }
    assert data["missing"] == ["regression_INC_004"]
    assert data["flaky"][0]["pass_rate"] == 0.5
    assert data["warnings"][1] == {
        "test_id": "regression_INC_009",
        "message": "result for unknown test regression_INC_009: no regression record has this id",
        "source": "results.jsonl:9",
    }
    assert [t["verdict"] for t in data["per_test"]] == ["block", "block", "warn", "block", "pass"]


def release_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path("release").read_text(encoding="utf-8"))
    return schema


def test_release_schema_is_2020_12_with_id_and_every_property_documented() -> None:
    schema = release_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://incidentops.dev/schemas/release.schema.json"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    undocumented: list[str] = []

    def walk(node: dict[str, Any], where: str) -> None:
        for name, sub in node.get("properties", {}).items():
            if not sub.get("title") or not sub.get("description"):
                undocumented.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")

    walk(schema, "$")
    assert undocumented == []


def test_release_record_validates_against_the_schema(blocked: GateDecision) -> None:
    data = record(blocked, "0123456789abcdef0123456789abcdef01234567", "aurora-3.0", AS_OF)
    validator = Draft202012Validator(release_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(data)) == []
    assert data["name"] == "20260401T120000Z_aurora-3.0"
    assert (data["decided_at"], data["decision"], data["suite"], data["score"]) == (
        "2026-04-01T12:00:00Z", "BLOCK", SUITE, 0.8333,
    )
    assert data["blocking"] == [
        {"test_id": "regression_INC_001", "reason": "failed: <script>alert(1)</script> | *bold* [link](javascript:x)"},
        {"test_id": "regression_INC_002", "reason": "failed 5 of 10 runs"},
        {"test_id": "regression_INC_004", "reason": "no result: missing from every results file"},
    ]
    assert [t["test_id"] for t in data["tests"]] == [
        "regression_INC_001", "regression_INC_002", "regression_INC_003", "regression_INC_004", "regression_INC_005",
    ]
    assert data["flaky"] == [{"test_id": "regression_INC_002", "runs": 10, "passes": 5, "pass_rate": 0.5}]


def test_release_record_converts_as_of_to_utc_and_names_by_commit() -> None:
    decision = decide([reg(1)], [res(1)], POLICY)
    paris = timezone(timedelta(hours=2))
    data = record(decision, "abcdef0123", None, datetime(2026, 4, 1, 14, 30, tzinfo=paris))
    assert (data["decided_at"], data["name"], data["suite"], data["model_version"]) == (
        "2026-04-01T12:30:00Z", "20260401T123000Z_abcdef0123", None, None,
    )
    assert record(decision, None, None, AS_OF, name="release-2026.04")["name"] == "release-2026.04"


def test_release_record_refuses_values_outside_the_schema() -> None:
    decision = decide([reg(1)], [res(1)], POLICY)
    with pytest.raises(IncidentOpsError) as caught:
        record(decision, "HEAD", None, AS_OF)
    assert caught.value.message == "the release record is invalid at commit: 'HEAD' does not match '^[0-9a-f]{7,64}$'"
    with pytest.raises(ValueError, match="timezone-aware"):
        record(decision, None, None, datetime(2026, 4, 1))
