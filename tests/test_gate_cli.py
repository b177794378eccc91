"""`incidentops suite export` and `incidentops gate` end to end on a copy of the example registry.

Every PASS/BLOCK rule is proven through the real command line; results come from
real producers (pytest's own --junitxml) as well as from JSONL written here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from conftest import REPO, Result, run_cli
from gitrepo import GitRepo, isolate_git
from incidentops.gate import decide, record
from incidentops.gate.releases import regression_records, release_path, write_release_record
from incidentops.records.errors import IncidentOpsError
from incidentops.records.gitops import head_commit
from incidentops.records.registry import Registry
from incidentops.records.schemas import load_schema

AS_OF = "2026-11-27T10:00:00Z"
SUITE = "model-safety-regression-suite"
RETIRED = "regression_INC_004"


# ---- helpers ------------------------------------------------------------------------


def copy_example(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, dest / name)
    for folder in ("incidents", "regressions", "audit", "reviews", "releases", "scenarios"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, dest / folder)
    return dest


def runnable(root: Path) -> dict[str, dict[str, Any]]:
    """test_id -> record of the tests that must run (read straight from the files)."""
    tests = {}
    for path in sorted((root / "regressions").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        tests[data["test_id"]] = data
    return tests


def in_state(root: Path, state: str) -> list[str]:
    return [test_id for test_id, data in runnable(root).items() if data["state"] == state]


def passing(root: Path) -> dict[str, dict[str, Any]]:
    """A passing result for every test that must run: refused exactly at the expected turn."""
    return {
        test_id: {"test_id": test_id, "outcome": "pass", "blocked_at_turn": data["expected_block_turn"]}
        for test_id, data in runnable(root).items()
    }


def write_jsonl(path: Path, rows: Any) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def gate(root: Path, *results: Path, fmt: str = "json", extra: tuple[str, ...] = ()) -> Result:
    args = ["gate", "--as-of", AS_OF, "--format", fmt]
    for path in results:
        args += ["--results", str(path)]
    return run_cli(*args, *extra, cwd=root)


def blocking_ids(result: Result) -> list[str]:
    return [o["test_id"] for o in result.json()["blocking"]]


def warned_ids(result: Result) -> list[str | None]:
    return [w["test_id"] for w in result.json()["warnings"]]


@pytest.fixture
def active(example: Path) -> str:
    """An ACTIVE (blocking) test of the example, with expected_block_turn 3."""
    tests = runnable(example)
    assert tests["regression_INC_001"]["state"] == "ACTIVE"
    assert tests["regression_INC_001"]["expected_block_turn"] == 3
    return "regression_INC_001"


# ---- the round trip: suite export -> results -> gate ------------------------------


def test_export_results_gate_round_trip(example: Path, tmp_path: Path):
    exported = run_cli("suite", "export", "--format", "jsonl", "--out", str(tmp_path / "suite.jsonl"), cwd=example)
    assert exported.code == 0, exported.err
    assert exported.out == ""
    items = [json.loads(line) for line in (tmp_path / "suite.jsonl").read_text().splitlines()]
    ids = [item["test_id"] for item in items]
    assert ids == sorted(runnable(example))
    assert RETIRED not in ids
    assert {item["state"] for item in items} == {"ACTIVE", "MONITORING", "DEPRECATED"}
    assert f"exported {len(items)} test(s) of all suites" in exported.err

    # a harness plays each exported test and reports under its test_id
    rows = {item["test_id"]: {"test_id": item["test_id"], "outcome": "pass",
                              "blocked_at_turn": item["expected_block_turn"]} for item in items}
    results = write_jsonl(tmp_path / "results.jsonl", rows.values())
    passed = gate(example, results, fmt="text")
    assert passed.code == 0, passed.err
    assert passed.out.startswith(f"Release gate: PASS (all suites, {len(items)} tests)")

    active = next(item["test_id"] for item in items if item["state"] == "ACTIVE")
    rows[active] = {"test_id": active, "outcome": "fail", "message": "model produced the template"}
    blocked = gate(example, write_jsonl(tmp_path / "results.jsonl", rows.values()))
    assert blocked.code == 1
    assert blocked.json()["decision"] == "BLOCK"
    assert blocking_ids(blocked) == [active]
    assert blocked.json()["blocking"][0]["reason"] == "failed: model produced the template"

    rows[active]["outcome"] = "pass"
    monitoring = next(item["test_id"] for item in items if item["state"] == "MONITORING")
    rows[monitoring] = {"test_id": monitoring, "outcome": "fail"}
    warned = gate(example, write_jsonl(tmp_path / "results.jsonl", rows.values()))
    assert warned.code == 0
    assert warned.json()["decision"] == "PASS"
    assert warned_ids(warned) == [monitoring]
    assert "(MONITORING, not blocking): failed" in warned.json()["warnings"][0]["message"]


def test_deprecated_failure_is_a_warning(example: Path, tmp_path: Path):
    rows = passing(example)
    (deprecated,) = in_state(example, "DEPRECATED")
    rows[deprecated] = {"test_id": deprecated, "outcome": "error", "message": "provider timeout"}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()))
    assert result.code == 0
    assert result.json()["decision"] == "PASS"
    assert warned_ids(result) == [deprecated]


# ---- every BLOCK rule, one at a time ---------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"outcome": "fail"}, "failed"),
        ({"outcome": "error", "message": "ConnectionError: provider down"}, "errored: ConnectionError: provider down"),
        ({"outcome": "skip", "message": "provider unavailable"}, "skipped: provider unavailable"),
        ({"outcome": "pass", "blocked_at_turn": 4}, "blocked at turn 4, expected at or before turn 3"),
        ({"outcome": "pass", "blocked_at_turn": 3, "runs": 10, "passes": 9}, "failed 1 of 10 runs"),
        (None, "no result: missing from every results file"),
    ],
    ids=["fail", "error", "skip", "late-refusal", "failed-repeat", "missing"],
)
def test_an_active_test_blocks_the_release(example: Path, tmp_path: Path, active: str, row: Any, reason: str):
    rows = passing(example)
    if row is None:
        del rows[active]
    else:
        rows[active] = {"test_id": active, **row}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()))
    assert result.code == 1, result.err
    data = result.json()
    assert data["decision"] == "BLOCK"
    assert blocking_ids(result) == [active]
    assert data["blocking"][0]["reason"] == reason
    assert data["missing"] == ([active] if row is None else [])


def test_refusal_at_the_expected_turn_passes(example: Path, tmp_path: Path, active: str):
    rows = passing(example)
    rows[active] = {"test_id": active, "outcome": "pass", "blocked_at_turn": 3}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()))
    assert result.code == 0
    path = str(tmp_path / "r.jsonl")
    assert result.json() | {"per_test": None} == {
        "decision": "PASS", "suite": None, "model": None, "score": 0.0, "tests_run": len(rows), "blocking": [],
        "warnings": [], "missing": [], "flaky": [], "per_test": None, "findings": [],
        "inputs": [{"path": path, "format": "JSON Lines", "results": len(rows)}], "models": [],
    }


def test_weighted_score_counts_failures_by_severity_weight(example: Path, tmp_path: Path, active: str):
    rows = passing(example)
    rows[active] = {"test_id": active, "outcome": "fail"}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()))
    weights = {test_id: data["severity_weight"] for test_id, data in runnable(example).items()}
    assert result.json()["score"] == round(weights[active] / sum(weights.values()), 4)
    assert result.json()["tests_run"] == len(weights)


def test_unknown_and_retired_results_are_warnings(example: Path, tmp_path: Path):
    rows = [*passing(example).values(),
            {"test_id": RETIRED, "outcome": "fail"},
            {"test_id": "regression_INC_999", "outcome": "pass"}]
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows))
    assert result.code == 0
    assert sorted(warned_ids(result)) == [RETIRED, "regression_INC_999"]
    messages = " | ".join(w["message"] for w in result.json()["warnings"])
    assert "RETIRED test regression_INC_004" in messages
    assert "unknown test regression_INC_999" in messages


def test_flaky_tests(example: Path, tmp_path: Path, active: str):
    rows = passing(example)
    (monitoring,) = in_state(example, "MONITORING")
    rows[monitoring] = {"test_id": monitoring, "outcome": "pass", "runs": 10, "passes": 6}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()))
    assert result.code == 0  # a flaky MONITORING test warns, it does not block
    assert [(f["test_id"], f["runs"], f["passes"]) for f in result.json()["flaky"]] == [(monitoring, 10, 6)]

    rows[active] = {"test_id": active, "outcome": "pass", "runs": 10, "passes": 5}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()))
    assert result.code == 1
    assert blocking_ids(result) == [active]
    flaky = {f["test_id"]: f for f in result.json()["flaky"]}
    assert "consider moving regression_INC_001 to MONITORING" in flaky[active]["suggestion"]


def test_results_spread_over_several_files_and_formats(example: Path, tmp_path: Path, active: str):
    rows = passing(example)
    junit = tmp_path / "active.xml"
    junit.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="safety">\n'
        f'<testcase classname="suite" name="test_{active}"><failure message="template produced"/></testcase>\n'
        "</testsuite></testsuites>\n", encoding="utf-8")
    others = write_jsonl(tmp_path / "others.jsonl", [r for t, r in rows.items() if t != active])
    result = gate(example, others, junit)
    assert result.code == 1
    assert blocking_ids(result) == [active]
    assert result.json()["blocking"][0]["source"] == f"{junit}:3:1"
    assert gate(example, others).code == 1  # the second file was needed: without it, missing


# ---- output formats ------------------------------------------------------------------------


def test_markdown_summary_for_a_blocked_release(example: Path, tmp_path: Path, active: str):
    rows = passing(example)
    rows[active] = {"test_id": active, "outcome": "fail", "message": "<script>alert(1)</script> | pipe"}
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()), fmt="markdown")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "## ⛔ Release gate: BLOCK"
    assert "### Blocking tests" in lines
    row = next(line for line in lines if line.startswith("| regression\\_INC\\_001 |"))
    assert "<script>" not in row and "&lt;script&gt;" in row and "\\| pipe" in row


def test_text_report_names_what_blocks(example: Path, tmp_path: Path, active: str):
    rows = passing(example)
    del rows[active]
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", rows.values()), fmt="text")
    assert result.code == 1
    assert result.out.splitlines()[0].startswith("Release gate: BLOCK")
    assert f"Missing from the results (1): {active}" in result.out


# ---- results written by pytest itself ------------------------------------------------------

RUNNER = '''
import json
from pathlib import Path

import pytest

SUITE = {{row["test_id"]: row for row in map(json.loads, Path({manifest!r}).read_text().splitlines())}}
MODEL = json.loads({behaviour!r})  # test_id -> the turn the simulated model refuses at, null, or "skip"


def play(test_id, record_property):
    turn = MODEL.get(test_id, SUITE[test_id]["expected_block_turn"])
    if turn == "skip":
        pytest.skip("provider unavailable")
    if turn is not None:
        record_property("blocked_at_turn", turn)
    expected = SUITE[test_id]["expected_block_turn"]
    assert turn is not None, "the model never refused"
    assert turn <= expected, f"refused at turn {{turn}}, expected at or before turn {{expected}}"
'''


def run_pytest(folder: Path, manifest: Path, behaviour: dict[str, Any], *args: str) -> Path:
    """Generate one test function per exported test id and run them with `pytest --junitxml`."""
    folder.mkdir()
    ids = [json.loads(line)["test_id"] for line in manifest.read_text().splitlines()]
    module = RUNNER.format(manifest=str(manifest), behaviour=json.dumps(behaviour))
    for test_id in ids:
        module += f"\n\ndef test_{test_id}(record_property):\n    play({test_id!r}, record_property)\n"
    (folder / "test_safety_suite.py").write_text(module, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder), "-o", "addopts=",
         "-o", "junit_family=xunit1", "--junitxml", str(folder / "junit.xml"), *args, "test_safety_suite.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    return folder / "junit.xml"


@pytest.fixture(scope="module")
def pytest_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pytest-runs")
    registry = copy_example(base / "registry")
    manifest = base / "suite.jsonl"
    exported = run_cli("suite", "export", "--out", str(manifest), cwd=registry)
    assert exported.code == 0, exported.err
    return {
        "manifest": manifest,
        "clean": run_pytest(base / "clean", manifest, {}),
        "broken": run_pytest(base / "broken", manifest, {
            "regression_INC_001": None,  # ACTIVE: never refused
            "regression_INC_003": 2,  # ACTIVE: refused at turn 2, expected at turn 1
            "regression_INC_006": "skip",  # ACTIVE: skipped
            "regression_INC_007": None,  # MONITORING: never refused
        }),
        "partial": run_pytest(base / "partial", manifest, {}, "-k", "not regression_INC_008"),
    }


def test_pytest_report_of_a_clean_run_passes(example: Path, pytest_reports: dict[str, Path]):
    report = pytest_reports["clean"]
    assert report.read_text().count("<testcase") == len(runnable(example))
    result = gate(example, report)
    assert result.code == 0, result.err
    assert result.json()["decision"] == "PASS"
    assert {o["blocked_at_turn"] for o in result.json()["per_test"]} >= {1, 3}


def test_pytest_report_with_failures_blocks(example: Path, pytest_reports: dict[str, Path]):
    result = gate(example, pytest_reports["broken"])
    assert result.code == 1
    blocking = {o["test_id"]: o for o in result.json()["blocking"]}
    assert sorted(blocking) == ["regression_INC_001", "regression_INC_003", "regression_INC_006"]
    assert blocking["regression_INC_001"]["reason"] == "failed: AssertionError: the model never refused"
    assert blocking["regression_INC_003"]["reason"] == (
        "failed: AssertionError: refused at turn 2, expected at or before turn 1")
    assert blocking["regression_INC_006"]["reason"] == "skipped: provider unavailable"
    assert warned_ids(result) == ["regression_INC_007"]


def test_pytest_report_that_omits_an_active_test_blocks(example: Path, pytest_reports: dict[str, Path]):
    assert "regression_INC_008" not in pytest_reports["partial"].read_text()
    result = gate(example, pytest_reports["partial"])
    assert result.code == 1
    assert result.json()["missing"] == ["regression_INC_008"]
    assert blocking_ids(result) == ["regression_INC_008"]


def test_truncated_pytest_report_is_refused(example: Path, tmp_path: Path, pytest_reports: dict[str, Path]):
    data = pytest_reports["clean"].read_bytes()
    cut = tmp_path / "junit.xml"
    cut.write_bytes(data[: len(data) // 2])
    result = gate(example, cut, fmt="text")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(f"incidentops: error: {cut}:1:")
    assert "not well-formed XML" in result.err


# ---- unreadable results: exit 2, a clear message, never a PASS --------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.xml", "", "{path}:1: the results file is empty"),
        ("blank.jsonl", "\n  \n", "{path}:1: the results file is empty"),
        ("garbage.xml", "this is not xml", "{path}:1:1: not well-formed XML"),
        ("truncated.xml", '<testsuites><testsuite name="s"><testcase name="test_regression_INC_001">',
         "{path}:1:"),
        ("truncated.jsonl", '{"test_id": "regression_INC_001", "outcome": "pass"}\n{"test_id": "regr',
         "{path}:2:"),
        ("outcome.jsonl", '{"test_id": "regression_INC_001", "outcome": "passed"}\n',
         '{path}:1: test regression_INC_001: unknown outcome "passed"'),
        ("html.xml", "<html><body>502 Bad Gateway</body></html>", "{path}:1:1: <html> is not a JUnit report"),
        ("doctype.xml", '<!DOCTYPE lolz [<!ENTITY lol "lol">]><testsuites/>',
         "{path}:1:16: the results file contains a DOCTYPE declaration"),
    ],
)
def test_malformed_results_are_refused(example: Path, tmp_path: Path, name: str, content: str, message: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = gate(example, path)
    assert result.code == 2, result.out
    assert result.out == ""  # nothing a CI step could mistake for a decision
    assert result.err.startswith("incidentops: error: " + message.format(path=path)), result.err
    assert "  hint: " in result.err
    assert "Traceback" not in result.err


def test_malformed_results_print_no_summary(example: Path, tmp_path: Path):
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites><testsuite name="s">', encoding="utf-8")
    result = gate(example, path, fmt="markdown")
    assert (result.code, result.out) == (2, "")
    assert "not well-formed XML" in result.err


def test_missing_results_file_and_folder_are_refused(example: Path, tmp_path: Path):
    missing = gate(example, tmp_path / "nope.xml")
    assert (missing.code, missing.out) == (2, "")
    assert missing.err.startswith(f"incidentops: error: {tmp_path / 'nope.xml'}: no such results file")
    folder = gate(example, tmp_path)
    assert (folder.code, folder.out) == (2, "")
    assert "is a folder, not a results file" in folder.err


def test_one_bad_file_among_good_ones_is_still_refused(example: Path, tmp_path: Path):
    good = write_jsonl(tmp_path / "good.jsonl", passing(example).values())
    bad = tmp_path / "bad.jsonl"
    bad.write_text("", encoding="utf-8")
    result = gate(example, good, bad)
    assert (result.code, result.out) == (2, "")


def test_results_are_required(example: Path):
    result = run_cli("gate", cwd=example)
    assert result.code == 2
    assert "Missing option '--results'" in result.err


def test_invalid_regression_record_stops_the_gate(example: Path, tmp_path: Path, active: str):
    rel = "regressions/regression_INC_008.yaml"
    path = example / rel
    path.write_text(path.read_text().replace("state: ACTIVE", "state: ACTlVE", 1), encoding="utf-8")
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", passing(example).values()))
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"incidentops: error: invalid regression records: {rel}:14:8: ")
    assert "incidentops check regressions" in result.err
    exported = run_cli("suite", "export", cwd=example)
    assert (exported.code, exported.out) == (2, "")


# ---- suites --------------------------------------------------------------------------------


def test_suites_are_exported_and_gated_separately(example: Path, tmp_path: Path):
    rel = example / "regressions" / "regression_INC_008.yaml"
    rel.write_text(rel.read_text().replace(f"suite: {SUITE}", "suite: persona-abuse-suite"), encoding="utf-8")
    exported = run_cli("suite", "export", "--suite", "persona-abuse-suite", cwd=example)
    assert exported.code == 0
    assert [json.loads(line)["test_id"] for line in exported.out.splitlines()] == ["regression_INC_008"]

    rows = passing(example)
    del rows["regression_INC_008"]
    results = write_jsonl(tmp_path / "r.jsonl", rows.values())
    undeclared = gate(example, results, extra=("--suite", SUITE))
    assert undeclared.code == 1  # an ACTIVE test of a suite the policy does not declare blocks
    assert undeclared.json()["findings"][0]["rule"] == "gate.unknown-suite"
    policy = example / "incidentops.yaml"
    policy.write_text(policy.read_text().replace(f"suites: [{SUITE}]", f"suites: [{SUITE}, persona-abuse-suite]"))
    scoped = gate(example, results, extra=("--suite", SUITE))
    assert scoped.code == 0, scoped.out
    assert scoped.json()["suite"] == SUITE
    everything = gate(example, results)
    assert everything.code == 1
    assert everything.json()["missing"] == ["regression_INC_008"]

    typo = gate(example, results, extra=("--suite", "model-safety-regresion-suite"))
    assert (typo.code, typo.out) == (2, "")
    assert "unknown suite 'model-safety-regresion-suite'" in typo.err
    assert f"did you mean '{SUITE}'?" in typo.err


# ---- export formats ------------------------------------------------------------------------


def test_promptfoo_and_inspect_exports_carry_test_ids(example: Path, tmp_path: Path):
    expected = sorted(runnable(example))
    promptfoo = run_cli("suite", "export", "--format", "promptfoo", "--out", str(tmp_path / "pf.yaml"), cwd=example)
    assert promptfoo.code == 0, promptfoo.err
    cases = yaml.safe_load((tmp_path / "pf.yaml").read_text())
    assert [case["vars"]["test_id"] for case in cases] == expected
    assert all(case["metadata"]["test_id"] == case["vars"]["test_id"] for case in cases)

    inspect = run_cli("suite", "export", "--format", "inspect", cwd=example)
    assert inspect.code == 0, inspect.err
    samples = [json.loads(line) for line in inspect.out.splitlines()]
    assert [s["id"] for s in samples] == expected
    assert RETIRED not in inspect.out


def test_export_reads_turns_from_a_scenario_file(example: Path):
    path = example / "regressions" / "regression_INC_008.yaml"
    data = yaml.safe_load(path.read_text())
    text = path.read_text()
    start = text.index("turns:\n")
    end = text.index("expected_block_turn:")
    path.write_text(text[:start] + "scenario_file: scenarios/persona_targeted_harassment.yaml\n" + text[end:])
    (example / "scenarios").mkdir(exist_ok=True)
    (example / "scenarios" / "persona_targeted_harassment.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/scenario.schema.json\n" + yaml.safe_dump({"turns": data["turns"]}))
    exported = run_cli("suite", "export", cwd=example)
    assert exported.code == 0, exported.err
    items = {json.loads(line)["test_id"]: json.loads(line) for line in exported.out.splitlines()}
    assert items["regression_INC_008"]["turns"] == data["turns"]


# ---- release records -----------------------------------------------------------------------


def _validate_release(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema = load_schema("release")
    assert schema is not None
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(data)
    return data


def test_record_names_the_commit_and_model_and_is_never_overwritten(example: Path, tmp_path: Path, active: str):
    repo = GitRepo.init(example)
    repo.add(".")
    head = repo.commit("Example registry", date="2026-11-20T09:00:00Z")
    git = {"GIT_DIR": str(example / ".git"), "GIT_WORK_TREE": str(example)}
    rows = passing(example)
    results = write_jsonl(tmp_path / "r.jsonl", rows.values())

    args = ["gate", "--as-of", AS_OF, "--results", str(results), "--record", "releases/aurora-3.0-rc1.yaml"]
    first = run_cli(*args, cwd=example, env=git)
    assert first.code == 0, first.err
    assert "recorded releases/aurora-3.0-rc1.yaml" in first.err
    path = example / "releases" / "aurora-3.0-rc1.yaml"
    assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/release.schema.json\n")
    data = _validate_release(path)
    assert data["name"] == "aurora-3.0-rc1"
    assert data["decision"] == "PASS"
    assert data["commit"] == head
    assert data["model_version"] == "aurora-3.0"  # models.yaml `current`
    assert data["decided_at"] == AS_OF
    assert [t["test_id"] for t in data["tests"]] == sorted(rows)
    assert {t["outcome"] for t in data["tests"]} == {"pass"}

    checked = run_cli("check", "--as-of", AS_OF, "--format", "json", "releases", cwd=example)
    assert (checked.code, checked.json()) == (0, [])

    before = path.read_bytes()
    again = run_cli(*args, cwd=example, env=git)
    assert (again.code, again.out) == (2, "")
    assert again.err.startswith("incidentops: error: releases/aurora-3.0-rc1.yaml already exists")
    assert path.read_bytes() == before

    rows[active] = {"test_id": active, "outcome": "fail"}
    write_jsonl(results, rows.values())
    blocked = run_cli("gate", "--as-of", AS_OF, "--results", str(results), "--model-version", "aurora-3.1",
                      "--record", str(example / "releases" / "aurora-3.1-rc1.yaml"), cwd=example, env=git)
    assert blocked.code == 1
    assert "model version aurora-3.1 is not in models.yaml yet" in blocked.err
    data = _validate_release(example / "releases" / "aurora-3.1-rc1.yaml")
    assert (data["decision"], data["model_version"], data["commit"]) == ("BLOCK", "aurora-3.1", head)
    assert data["blocking"] == [{"test_id": active, "reason": "failed"}]
    outcomes = {t["test_id"]: (t["outcome"], t["verdict"]) for t in data["tests"]}
    assert outcomes[active] == ("fail", "block")


def test_record_outside_git_names_no_commit(example: Path, tmp_path: Path):
    results = write_jsonl(tmp_path / "r.jsonl", passing(example).values())
    outside = {"GIT_CEILING_DIRECTORIES": str(example.parent)}
    result = run_cli("gate", "--as-of", AS_OF, "--results", str(results), "--record", "releases/r1.yaml",
                     cwd=example, env=outside)
    assert result.code == 0, result.err
    assert "the record names no commit" in result.err
    assert _validate_release(example / "releases" / "r1.yaml")["commit"] is None


@pytest.mark.parametrize("target", ["out/r1.yaml", "releases/r1.json", "releases/bad name.yaml", "../r1.yaml"])
def test_record_path_must_be_a_release_record(example: Path, tmp_path: Path, target: str):
    results = write_jsonl(tmp_path / "r.jsonl", passing(example).values())
    result = run_cli("gate", "--results", str(results), "--record", target, cwd=example)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("incidentops: error: ")
    assert "Traceback" not in result.err
    shipped = {p.name for p in (REPO / "releases").iterdir()}  # the example's own release record
    assert not (example / "releases").exists() or {p.name for p in (example / "releases").iterdir()} == shipped


def test_invalid_policy_stops_the_gate(example: Path, tmp_path: Path):
    policy = example / "incidentops.yaml"
    policy.write_text(policy.read_text().replace("blocking_states: [ACTIVE]", "blocking_states: [ACTIVE, MONITORNG]"))
    result = gate(example, write_jsonl(tmp_path / "r.jsonl", passing(example).values()))
    assert (result.code, result.out) == (2, "")
    line = next(n for n, text in enumerate(policy.read_text().splitlines(), 1) if "blocking_states:" in text)
    assert result.err.startswith(f"incidentops: error: invalid policy: incidentops.yaml:{line}:29: "
                                 "regression.blocking_states[1]: 'MONITORNG' is not one of")


# ---- the pieces behind the commands, in process ------------------------------------------


def test_duplicate_test_ids_are_refused(example: Path):
    shutil.copy2(example / "regressions" / "regression_INC_001.yaml",
                 example / "regressions" / "archive" / "regression_INC_001.yaml")
    with pytest.raises(IncidentOpsError) as caught:
        regression_records(Registry(example))
    assert caught.value.message == ("invalid regression records: regressions/archive/regression_INC_001.yaml: "
                                    "test id regression_INC_001 is also used by regressions/regression_INC_001.yaml")


def test_head_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_git(monkeypatch)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert head_commit(plain) is None  # not a checkout
    repo = GitRepo.init(tmp_path / "repo")
    assert head_commit(repo.path) is None  # no commit yet
    repo.write("incidentops.yaml", "version: 1\n")
    head = repo.commit("Policy", date="2026-11-20T09:00:00Z")
    assert head_commit(repo.path) == head
    (repo.path / "sub").mkdir()
    assert head_commit(repo.path / "sub") == head


def test_release_record_is_never_overwritten(example: Path):
    target = example / "releases" / "r1.yaml"
    target.parent.mkdir(exist_ok=True)
    before = sorted(p.name for p in target.parent.iterdir())
    target.write_text("kept\n")
    with pytest.raises(IncidentOpsError) as caught:
        release_path(example, Path("releases/r1.yaml"))
    assert caught.value.message == "releases/r1.yaml already exists: a recorded gate decision is never overwritten"
    registry = Registry(example)
    decision = decide(regression_records(registry), [], registry.policy_record)
    data = record(decision, None, "aurora-3.0", datetime(2026, 11, 27, tzinfo=UTC), name="r1")
    with pytest.raises(IncidentOpsError, match="already exists"):
        write_release_record(example, "releases/r1.yaml", data)  # appeared after the early check
    assert target.read_text() == "kept\n"
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([*before, "r1.yaml"])  # no temporary file left


def test_release_record_is_validated_before_it_is_written(example: Path):
    registry = Registry(example)
    decision = decide(regression_records(registry), [], registry.policy_record)
    data = record(decision, None, "aurora-3.0", datetime(2026, 11, 27, tzinfo=UTC), name="r2") | {"decision": "MAYBE"}
    with pytest.raises(IncidentOpsError) as caught:
        write_release_record(example, "releases/r2.yaml", data)
    assert caught.value.message == ("the release record is invalid: releases/r2.yaml:4:11: "
                                    "decision: 'MAYBE' is not one of PASS, BLOCK")
    assert not (example / "releases" / "r2.yaml").exists()
