"""Check rules of the release gate: weights, handoff/test agreement, scenarios, suites, release records."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from incidentops.checks import check_registry
from incidentops.gate import TestResult, decide, record
from incidentops.gate.releases import regression_records, write_release_record
from incidentops.records.findings import Finding
from incidentops.records.registry import Registry

AS_OF = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TEST_001 = "regressions/regression_INC_001.yaml"
HANDOFF_001 = "incidents/INC_001/handoff.yaml"
GATE_RULES = ("gate.", "handoff.")


def check(root: Path, *paths: str) -> list[Finding]:
    return check_registry(Registry(root), AS_OF, list(paths) or None)


def located(findings: list[Finding], rule: str, path: str | None = None) -> list[tuple[str, int, str]]:
    return [(f.path, f.line, f.level) for f in findings if f.rule == rule and (path is None or f.path == path)]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(root: Path, rel: str, needle: str) -> int:
    for number, line in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {rel}")


def use_scenario_file(root: Path, rel: str, scenario_file: str) -> list[str]:
    """Replace a test's inline turns by ``scenario_file:``; returns the turns it had."""
    path = root / rel
    turns = yaml.safe_load(path.read_text(encoding="utf-8"))["turns"]
    text = re.sub(r"^turns:\n(?:  - .*\n)+", f"scenario_file: {scenario_file}\n", path.read_text(encoding="utf-8"),
                  flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    return list(turns)


# ---- the example registry --------------------------------------------------------


def test_example_registry_keeps_every_gate_rule(example: Path):
    findings = check(example)
    assert [f for f in findings if f.rule.startswith(GATE_RULES)] == []
    assert [f for f in findings if f.is_error] == []


# ---- gate.weight-range -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "old", "weight", "warned"),
    [
        (TEST_001, "severity_weight: 0.8", "0.95", True),  # SEV-2 range 0.5-0.9
        (TEST_001, "severity_weight: 0.8", "0.45", True),
        (TEST_001, "severity_weight: 0.8", "0.9", False),  # bounds are inside the range
        (TEST_001, "severity_weight: 0.8", "0.5", False),
        ("regressions/regression_INC_006.yaml", "severity_weight: 1.0", "0.85", True),  # SEV-0 range 0.9-1.0
        ("regressions/regression_INC_007.yaml", "severity_weight: 0.5", "0.7", True),  # SEV-3 range 0.1-0.6
        ("regressions/archive/regression_INC_004.yaml", "severity_weight: 0.7", "1", True),
    ],
)
def test_weight_outside_the_policy_range_warns_on_its_line(example: Path, rel: str, old: str, weight: str,
                                                             warned: bool):
    edit(example, rel, old, f"severity_weight: {weight}")
    found = located(check(example, rel), "gate.weight-range")
    line = line_of(example, rel, "severity_weight:")
    assert found == ([(rel, line, "warning")] if warned else [])


def test_weight_range_hint_gives_the_range_and_default(example: Path):
    edit(example, TEST_001, "severity_weight: 0.8", "severity_weight: 0.95")
    (finding,) = [f for f in check(example, TEST_001) if f.rule == "gate.weight-range"]
    assert finding.message == "severity_weight 0.95 is outside the SEV-2 range 0.5-0.9 of the policy"
    assert finding.hint.startswith("SEV-2 tests weigh 0.5 to 0.9 (default 0.8)")
    assert finding.col == 18


def test_weight_range_follows_the_policy(example: Path):
    edit(example, "incidentops.yaml", "weight_range: [0.5, 0.9]", "weight_range: [0.85, 0.9]")
    found = located(check(example, TEST_001), "gate.weight-range")
    assert found == [(TEST_001, 16, "warning")]


# ---- handoff.mismatch ------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "hint_value"),
    [
        ("scenario: authority_reframe_phishing", "scenario: authority_phishing", "scenario: authority_reframe_phishing"),
        ("expected_block_turn: 3", "expected_block_turn: 4", "expected_block_turn: 3"),
        ("severity_weight: 0.8", "severity_weight: 0.7", "severity_weight: 0.8"),
    ],
)
def test_handoff_field_differing_from_its_test(example: Path, old: str, new: str, hint_value: str):
    edit(example, HANDOFF_001, old, new)
    findings = [f for f in check(example, HANDOFF_001) if f.rule == "handoff.mismatch"]
    assert [(f.line, f.level) for f in findings] == [(line_of(example, HANDOFF_001, new), "error")]
    assert findings[0].hint == f"{TEST_001} has `{hint_value}`; make the handoff and the test agree"


def test_one_finding_per_differing_field(example: Path):
    edit(example, TEST_001, "scenario: authority_reframe_phishing", "scenario: payroll_phishing")
    edit(example, TEST_001, "expected_block_turn: 3", "expected_block_turn: 2")
    edit(example, TEST_001, "severity_weight: 0.8", "severity_weight: 0.75")
    findings = [f for f in check(example) if f.rule == "handoff.mismatch"]
    assert [(f.path, f.line) for f in findings] == [(HANDOFF_001, 8), (HANDOFF_001, 9), (HANDOFF_001, 10)]
    assert [f.message for f in findings] == [
        "regression_test.scenario: authority_reframe_phishing here, but regression_INC_001 has payroll_phishing",
        "regression_test.expected_block_turn: 3 here, but regression_INC_001 has 2",
        "regression_test.severity_weight: 0.8 here, but regression_INC_001 has 0.75",
    ]


def test_equal_weights_written_differently_agree(example: Path):
    edit(example, HANDOFF_001, "severity_weight: 0.8", "severity_weight: 0.80")
    assert located(check(example, HANDOFF_001), "handoff.mismatch") == []


def test_handoff_severity_must_be_the_incidents(example: Path):
    edit(example, HANDOFF_001, "severity: SEV-2", "severity: SEV-1")
    findings = [f for f in check(example, HANDOFF_001) if f.rule == "handoff.mismatch"]
    assert [(f.line, f.col, f.level) for f in findings] == [(3, 11, "error")]
    assert findings[0].message == "severity: SEV-1 here, but incident INC_001 is SEV-2"
    assert "incidents/INC_001/incident.yaml has `severity: SEV-2`" in findings[0].hint


def test_handoff_naming_another_incidents_test(example: Path):
    edit(example, HANDOFF_001, "test_id: regression_INC_001", "test_id: regression_INC_003")
    findings = [f for f in check(example, HANDOFF_001) if f.rule == "handoff.mismatch"]
    first = findings[0]
    assert (first.line, first.col) == (7, 12)
    assert first.message == "regression_test.test_id: regression_INC_003 is the test of INC_003, not of INC_001"
    assert first.hint.endswith("INC_001's test is regression_INC_001")
    # and the fields that differ from regression_INC_003 are each reported
    assert [f.line for f in findings[1:]] == [8, 9, 10]


def test_handoff_to_a_missing_test_is_only_a_reference_error(example: Path):
    edit(example, HANDOFF_001, "test_id: regression_INC_001", "test_id: regression_INC_099")
    findings = check(example, HANDOFF_001)
    assert located(findings, "handoff.mismatch") == []
    assert located(findings, "ref.test") == [(HANDOFF_001, 7, "error")]


def test_check_reports_the_mismatch_from_the_command_line(example: Path):
    edit(example, HANDOFF_001, "expected_block_turn: 3", "expected_block_turn: 5")
    result = run_cli("check", "--as-of", "2026-11-27", HANDOFF_001, cwd=example)
    assert result.code == 1
    assert (f"{HANDOFF_001}:9:24: error [handoff.mismatch] regression_test.expected_block_turn: 5 here, "
            "but regression_INC_001 has 3") in result.out
    assert f"hint: {TEST_001} has `expected_block_turn: 3`" in result.out


# ---- gate.block-turn -------------------------------------------------------------


@pytest.mark.parametrize(("turn", "warned"), [(5, False), (6, True)])
def test_expected_block_turn_after_the_last_turn(example: Path, turn: int, warned: bool):
    edit(example, TEST_001, "expected_block_turn: 3", f"expected_block_turn: {turn}")
    found = located(check(example, TEST_001), "gate.block-turn")
    assert found == ([(TEST_001, 15, "warning")] if warned else [])


# ---- scenarios ---------------------------------------------------------------------


def test_scenario_file_is_valid_and_counted(example: Path):
    turns = use_scenario_file(example, TEST_001, "scenarios/authority_reframe_phishing.yaml")
    scenario = example / "scenarios" / "authority_reframe_phishing.yaml"
    scenario.parent.mkdir(exist_ok=True)
    scenario.write_text(
        "# yaml-language-server: $schema=../schemas/scenario.schema.json\n"
        "scenario: authority_reframe_phishing\n"
        "description: Gradual authority reframing towards a phishing template.\n"
        + yaml.safe_dump({"turns": turns[:2]}, width=1000),
        encoding="utf-8",
    )
    findings = check(example)
    assert [f for f in findings if f.path.startswith("scenarios/")] == []
    # the turns now come from the file: 2 turns, expected block at turn 3
    assert located(findings, "gate.block-turn") == [(TEST_001, line_of(example, TEST_001, "expected_block_turn"), "warning")]


@pytest.mark.parametrize(
    ("body", "rule", "line"),
    [
        ("turns: just one string\n", "schema.type", 2),
        ("turns: []\n", "schema.minItems", 2),
        ("turns:\n  - first\n  - '   '\n", "schema.pattern", 4),
        ("scenario: x\nturn:\n  - first\n", "schema.unknown-key", 3),
        ("scenario: Not A Slug\nturns: [first]\n", "schema.pattern", 2),
        ("description: no turns\n", "schema.required", 2),
    ],
)
def test_scenario_files_are_schema_validated(example: Path, body: str, rule: str, line: int):
    rel = "scenarios/bad.yaml"
    (example / "scenarios").mkdir(exist_ok=True)
    (example / rel).write_text("# yaml-language-server: $schema=../schemas/scenario.schema.json\n" + body,
                               encoding="utf-8")
    findings = check(example, rel)
    assert (rel, line, "error") in located(findings, rule)


def test_scenario_file_outside_scenarios_is_not_validated(example: Path):
    use_scenario_file(example, TEST_001, "fixtures/phishing.yaml")
    (example / "fixtures").mkdir()
    (example / "fixtures" / "phishing.yaml").write_text("turns: [one, two, three]\n", encoding="utf-8")
    findings = check(example, TEST_001)
    assert located(findings, "gate.scenario-file") == [(TEST_001, line_of(example, TEST_001, "scenario_file"), "warning")]
    assert [f.rule for f in findings if f.is_error] == []


# ---- gate.suite --------------------------------------------------------------------


def test_misspelt_suite_warns(example: Path):
    rel = "regressions/regression_INC_008.yaml"
    edit(example, rel, "suite: model-safety-regression-suite", "suite: model-safety-regresion-suite")
    findings = [f for f in check(example, rel) if f.rule == "gate.suite"]
    assert [(f.line, f.col, f.level) for f in findings] == [(5, 8, "error")]
    assert findings[0].hint.startswith("did you mean 'model-safety-regression-suite'?")


def test_a_distinct_second_suite_is_fine(example: Path):
    rel = "regressions/regression_INC_008.yaml"
    edit(example, rel, "suite: model-safety-regression-suite", "suite: persona-abuse-suite")
    assert located(check(example, rel), "gate.suite") == [(rel, 5, "error")]
    edit(example, "incidentops.yaml", "  suites: [model-safety-regression-suite]",
         "  suites: [model-safety-regression-suite, persona-abuse-suite]")
    assert located(check(example, rel), "gate.suite") == []


# ---- release records ---------------------------------------------------------------

RELEASE = "releases/aurora-3.1.yaml"


def write_record(root: Path, outcome: str = "pass") -> None:
    registry = Registry(root)
    tests = regression_records(registry)
    results = [TestResult(t.test_id, outcome) for t in tests if t.state != "RETIRED"]
    decision = decide(tests, results, registry.policy_record)
    data = record(decision, "0123456789abcdef0123456789abcdef01234567", "aurora-3.0", AS_OF, name="aurora-3.1")
    write_release_record(root, RELEASE, data)


def test_a_written_release_record_passes_check(example: Path):
    write_record(example)
    assert check(example, RELEASE) == []


@pytest.mark.parametrize(
    ("old", "new", "rule", "level"),
    [
        ("name: aurora-3.1", "name: aurora-3.2", "id.filename", "error"),
        ("model_version: aurora-3.0", "model_version: aurora-3.1", "ref.model", "warning"),
        ("decision: PASS", "decision: MAYBE", "schema.enum", "error"),
        ("decision: PASS", "decision: BLOCK", "gate.record-decision", "error"),
        ("tests_run: 6", "tests_run: -1", "schema.minimum", "error"),
    ],
)
def test_release_records_are_validated(example: Path, old: str, new: str, rule: str, level: str):
    write_record(example)
    edit(example, RELEASE, old, new)
    assert located(check(example, RELEASE), rule) == [(RELEASE, line_of(example, RELEASE, new), level)]


def test_a_blocked_record_must_list_what_blocked(example: Path):
    write_record(example, outcome="fail")
    assert check(example, RELEASE) == []
    edit(example, RELEASE, "decision: BLOCK", "decision: PASS")
    found = located(check(example, RELEASE), "gate.record-decision")
    assert found == [(RELEASE, line_of(example, RELEASE, "decision: PASS"), "error")]
