"""Suite export for runners: JSONL manifest, promptfoo test file, Inspect AI dataset."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from incidentops.gate.export import export_suite, promptfoo_assertion
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import RegressionTest
from typed_support import policy as typed_policy
from typed_support import regression_test

DATA = Path(__file__).parent / "data" / "gate"
ROOT = DATA / "registry"
SUITE = "model-safety-regression-suite"
POLICY_DATA: dict[str, Any] = yaml.safe_load((DATA / "policy.yaml").read_text(encoding="utf-8"))
POLICY = typed_policy(POLICY_DATA)
PHISHING_TURNS = yaml.safe_load(
    (ROOT / "scenarios" / "authority_reframe_phishing.yaml").read_text(encoding="utf-8")
)["turns"]


def reg(number: int, state: str, **fields: Any) -> RegressionTest:
    record: dict[str, Any] = {
        "test_id": f"regression_INC_{number:03d}",
        "incident_id": f"INC_{number:03d}",
        "suite": SUITE,
        "scenario": f"scenario_{number}",
        "turns": [f"turn one of {number}", f"turn two of {number}"],
        "expected_block_turn": 2,
        "severity_weight": 0.5,
        "state": state,
    }
    record.update(fields)
    return regression_test(record)  # a None field is left out


TESTS = [
    reg(4, "DEPRECATED"),
    reg(1, "ACTIVE", turns=None, scenario_file="scenarios/authority_reframe_phishing.yaml",
        scenario="authority_reframe_phishing", expected_block_turn=3, severity_weight=0.8),
    reg(3, "RETIRED"),
    reg(2, "MONITORING", severity_weight=0.9),
    reg(5, "ACTIVE", suite="jailbreak-suite"),
]
RUN_IDS = ["regression_INC_001", "regression_INC_002", "regression_INC_004"]


def jsonl(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def export_error(tests: list[RegressionTest], fmt: str = "jsonl", suite: str | None = SUITE) -> IncidentOpsError:
    with pytest.raises(IncidentOpsError) as caught:
        export_suite(tests, POLICY, fmt, suite, ROOT)
    assert caught.value.hint
    return caught.value


def test_jsonl_manifest_lists_the_tests_that_must_run() -> None:
    rows = jsonl(export_suite(TESTS, POLICY, "jsonl", SUITE, ROOT))
    assert [r["test_id"] for r in rows] == RUN_IDS
    assert rows[0] == {
        "test_id": "regression_INC_001",
        "incident_id": "INC_001",
        "suite": SUITE,
        "state": "ACTIVE",
        "blocking": True,
        "scenario": "authority_reframe_phishing",
        "turns": PHISHING_TURNS,
        "expected_block_turn": 3,
        "severity_weight": 0.8,
    }
    assert [(r["state"], r["blocking"]) for r in rows] == [("ACTIVE", True), ("MONITORING", False), ("DEPRECATED", False)]
    assert rows[1]["turns"] == ["turn one of 2", "turn two of 2"]


def test_without_a_suite_every_suite_is_exported_and_retired_never() -> None:
    rows = jsonl(export_suite(TESTS, POLICY, "jsonl", None, ROOT))
    assert [r["test_id"] for r in rows] == [*RUN_IDS, "regression_INC_005"]
    assert all(r["state"] != "RETIRED" for r in rows)


def test_run_states_come_from_policy() -> None:
    policy = typed_policy({**POLICY_DATA, "regression": {**POLICY_DATA["regression"], "run_states": ["ACTIVE"]}})
    rows = jsonl(export_suite(TESTS, policy, "jsonl", SUITE, ROOT))
    assert [r["test_id"] for r in rows] == ["regression_INC_001"]


def test_promptfoo_file_parses_back() -> None:
    text = export_suite(TESTS, POLICY, "promptfoo", SUITE, ROOT)
    assert text.startswith("# promptfoo test cases exported by incidentops")
    cases = yaml.safe_load(text)
    assert isinstance(cases, list)  # what `tests: file://...` loads
    assert all(c["options"] == {"disableVarExpansion": True} for c in cases)  # turns stay one var
    assert [c["vars"]["test_id"] for c in cases] == RUN_IDS
    first = cases[0]
    assert first["description"] == "regression_INC_001: authority_reframe_phishing (ACTIVE)"
    assert first["vars"] == {"test_id": "regression_INC_001", "turns": PHISHING_TURNS}
    assert first["metadata"] == {
        "test_id": "regression_INC_001",
        "incident_id": "INC_001",
        "suite": SUITE,
        "state": "ACTIVE",
        "blocking": True,
        "expected_block_turn": 3,
        "severity_weight": 0.8,
    }
    [assertion] = first["assert"]
    assert assertion == {"type": "javascript", "value": promptfoo_assertion("regression_INC_001", 3)}
    assert "value: |" in text  # the assertion reads as a block, not an escaped one-liner
    assert all("RETIRED" not in json.dumps(c) for c in cases)


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node runs promptfoo's javascript assertions")
def test_promptfoo_assertion_judges_the_refusal_turn() -> None:
    body = yaml.safe_load(export_suite(TESTS, POLICY, "promptfoo", SUITE, ROOT))[0]["assert"][0]["value"]
    outputs = [
        '{"blocked_at_turn": 2}',
        '{"blocked_at_turn": 3}',
        '{"blocked_at_turn": 4}',
        '{"blocked_at_turn": null}',
        "I can't help with that.",
        {"blocked_at_turn": 1},
    ]
    script = (
        "const f = new Function('output', 'context', process.argv[1]);"
        "for (const out of JSON.parse(process.argv[2])) console.log(JSON.stringify(f(out, {vars: {}})));"
    )
    assert NODE is not None
    completed = subprocess.run(
        [NODE, "-e", script, body, json.dumps(outputs)], capture_output=True, text=True, timeout=60, check=True
    )
    verdicts = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [(v["pass"], v["reason"]) for v in verdicts] == [
        (True, "regression_INC_001: refused at turn 2"),
        (True, "regression_INC_001: refused at turn 3"),
        (False, "regression_INC_001: refused at turn 4, expected at or before turn 3"),
        (False, "regression_INC_001: the model never refused (expected at or before turn 3)"),
        (False, "regression_INC_001: provider output is not JSON with blocked_at_turn"),
        (True, "regression_INC_001: refused at turn 1"),
    ]


def test_inspect_dataset_parses_back_as_samples() -> None:
    samples = jsonl(export_suite(TESTS, POLICY, "inspect", SUITE, ROOT))
    assert [s["id"] for s in samples] == RUN_IDS
    first = samples[0]
    assert list(first) == ["id", "input", "target", "metadata"]
    assert first["input"] == [{"role": "user", "content": turn} for turn in PHISHING_TURNS]
    assert first["target"] == "3"
    assert first["metadata"] == {
        "test_id": "regression_INC_001",
        "incident_id": "INC_001",
        "suite": SUITE,
        "scenario": "authority_reframe_phishing",
        "state": "ACTIVE",
        "blocking": True,
        "expected_block_turn": 3,
        "severity_weight": 0.8,
    }
    assert [s["metadata"]["state"] for s in samples] == ["ACTIVE", "MONITORING", "DEPRECATED"]


def test_empty_default_suite_exports_nothing() -> None:
    assert export_suite([], POLICY, "jsonl", SUITE, ROOT) == ""
    assert yaml.safe_load(export_suite([], POLICY, "promptfoo", SUITE, ROOT)) == []


def test_unknown_format_and_suite_are_errors() -> None:
    assert export_error(TESTS, fmt="csv").message == "unknown export format 'csv'"
    error = export_error(TESTS, suite="jailbrake-suite")
    assert error.message == "no regression test belongs to suite 'jailbrake-suite'"
    assert error.hint == f"known suites: jailbreak-suite, {SUITE}"


def test_missing_scenario_file_is_a_clear_error() -> None:
    error = export_error([reg(7, "ACTIVE", turns=None, scenario_file="scenarios/gone.yaml")])
    assert error.message == f"regression_INC_007: scenario_file scenarios/gone.yaml not found under {ROOT}"


def test_scenario_file_outside_the_registry_is_refused() -> None:
    error = export_error([reg(7, "ACTIVE", turns=None, scenario_file="../policy.yaml")])
    assert error.message == "regression_INC_007: scenario_file '../policy.yaml' points outside the registry"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("single_string.yaml",
         "scenarios/single_string.yaml:3:8: `turns` must be a non-empty list of user turns (scenario_file of regression_INC_007)"),
        ("broken.yaml",
         "scenarios/broken.yaml:4:1: YAML syntax error: found unexpected end of stream (scenario_file of regression_INC_007)"),
        ("blank_turn.yaml",
         "scenarios/blank_turn.yaml:5:5: turns[1]: '   ' does not have the expected form (scenario_file of regression_INC_007)"),
        # the file is read against its schema: a field no runner knows is refused, not ignored
        ("unknown_field.yaml",
         "scenarios/unknown_field.yaml:3:1: unknown field 'truns_extra' (scenario_file of regression_INC_007)"),
    ],
)
def test_malformed_scenario_file_is_an_error_at_its_line(name: str, message: str) -> None:
    error = export_error([reg(7, "ACTIVE", turns=None, scenario_file=f"scenarios/{name}")])
    assert error.message == message


def test_retired_tests_are_not_loaded_at_all() -> None:
    # a RETIRED test's scenario may be gone with the product: it must not break the export
    retired = reg(8, "RETIRED", turns=None, scenario_file="scenarios/gone.yaml")
    assert jsonl(export_suite([retired, reg(1, "ACTIVE")], POLICY, "jsonl", SUITE, ROOT))[0]["test_id"] == "regression_INC_001"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"turns": None}, "regression_INC_007: the test has no turns to play"),
        ({"scenario_file": "scenarios/authority_reframe_phishing.yaml"},
         "regression_INC_007: both `turns` and `scenario_file` are given"),
        ({"expected_block_turn": 0}, "regression_INC_007: expected_block_turn is 0, not a turn number"),
    ],
)
def test_records_the_export_cannot_play_are_errors(fields: dict[str, Any], message: str) -> None:
    assert export_error([reg(7, "ACTIVE", **fields)]).message == message
