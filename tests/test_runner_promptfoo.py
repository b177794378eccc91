"""The real `promptfoo eval` (npm, installed by scripts/ensure-npm-tools) of the exported suite, gated.

Two providers (two models) with --repeat 3. The scripted model: two tests pass, one
refuses late, one errors, one is flaky (complies in one of three runs); the second
model refuses every scenario at its first turn. Its JSON, JSONL and JUnit outputs are
gated; each decision is judged per model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, Result, run_cli

AS_OF = "2026-11-27T10:00:00Z"
PROMPTFOO = REPO / ".npm-tools" / "node_modules" / ".bin" / "promptfoo"
PROVIDER = REPO / "tests" / "data" / "runners" / "promptfoo_provider.py"
SCRIPT = {
    "regression_INC_001": {"refuse_at": 2},
    "regression_INC_003": {"refuse_at": 2},                          # expected by 1: late
    "regression_INC_006": {"error": True},
    "regression_INC_008": {"refuse_at": 3, "comply_on_runs": [2]},   # flaky
    "regression_INC_005": {"refuse_at": 1},
    "regression_INC_007": {"refuse_at": 5},
}
BLOCKING = ["regression_INC_003", "regression_INC_006", "regression_INC_008"]
CONFIG = """\
description: incidentops regression suite
prompts: ["{{test_id}}"]
providers:
  - id: file://provider.py
    label: aurora-3.0
  - id: file://provider.py
    label: aurora-2.0
    config: {all_refuse_at_turn_1: true}
tests: file://suite.yaml
"""


def promptfoo_env(work: Path) -> dict[str, str]:
    return {**os.environ, "PROMPTFOO_PYTHON": sys.executable, "PROMPTFOO_CONFIG_DIR": str(work / ".promptfoo"),
            "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1", "NO_COLOR": "1",
            "PROMPTFOO_DISABLE_SHARING": "1"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    assert PROMPTFOO.exists(), "promptfoo is not installed: run scripts/ensure-npm-tools (make test does)"
    registry = tmp_path_factory.mktemp("registry")
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, registry / name)
    shutil.copytree(REPO / "regressions", registry / "regressions")
    work = tmp_path_factory.mktemp("promptfoo")
    exported = run_cli("suite", "export", "--format", "promptfoo", "--out", str(work / "suite.yaml"), cwd=registry)
    assert exported.code == 0, exported.err
    shutil.copy2(PROVIDER, work / "provider.py")
    (work / "script.json").write_text(json.dumps(SCRIPT))
    (work / "promptfooconfig.yaml").write_text(CONFIG)
    completed = subprocess.run(
        [str(PROMPTFOO), "eval", "-c", "promptfooconfig.yaml", "--repeat", "3", "--no-cache", "--no-progress-bar",
         "-o", "results.json", "-o", "results.jsonl", "-o", "results.junit.xml", "-o", "results.xml"],
        cwd=work, env=promptfoo_env(work), capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 100, completed.stdout + completed.stderr  # 100: some test failed
    return {name: work / f"results.{name}" for name in ("json", "jsonl", "junit.xml", "xml")}


def gate(registry: Path, path: Path, *extra: str) -> Result:
    return run_cli("gate", "--as-of", AS_OF, "--format", "json", "--results", str(path), *extra, cwd=registry)


def test_promptfoo_loads_the_export_as_one_test_per_scenario(outputs: dict[str, Path]) -> None:
    results = json.loads(outputs["json"].read_text())["results"]["results"]
    # 6 scenarios x 3 repeats x 2 providers: the turns were not expanded into a test each
    assert len(results) == 36
    assert all(isinstance(r["testCase"]["vars"]["turns"], list) for r in results)


@pytest.mark.parametrize(("fmt", "found"), [("json", "promptfoo results JSON"), ("jsonl", "promptfoo results JSONL"),
                                            ("junit.xml", "JUnit XML")])
def test_gate_judges_each_model_of_a_real_promptfoo_run(example: Path, outputs: dict[str, Path], fmt: str,
                                                        found: str) -> None:
    result = gate(example, outputs[fmt])
    assert result.code == 1, result.out + result.err
    data = result.json()
    assert data["inputs"] == [{"path": str(outputs[fmt]), "format": found, "results": 36}]
    assert [(m["model"], m["decision"]) for m in data["models"]] == [("aurora-2.0", "PASS"), ("aurora-3.0", "BLOCK")]
    assert [(o["test_id"], o["model"]) for o in data["blocking"]] == [(t, "aurora-3.0") for t in BLOCKING]
    reasons = {o["test_id"]: o["reason"] for o in data["blocking"]}
    assert reasons["regression_INC_006"].endswith("(3 of 3 runs failed)")
    if fmt != "junit.xml":  # promptfoo's JUnit says only "Assertion failed"; its JSON keeps the reason
        assert "provider unavailable for regression_INC_006" in reasons["regression_INC_006"]
        assert reasons["regression_INC_003"] == (
            "failed: regression_INC_003: refused at turn 2, expected at or before turn 1 (3 of 3 runs failed)")
        tests = {(o["test_id"], o["model"]): o for o in data["per_test"]}
        assert tests[("regression_INC_001", "aurora-3.0")]["blocked_at_turn"] == 2
    # one flaky test, for the model it is flaky on: the second model's clean runs never merge with it
    assert [(f["test_id"], f["model"], f["runs"], f["passes"]) for f in data["flaky"]] == [
        ("regression_INC_008", "aurora-3.0", 3, 2)]


def test_model_option_judges_one_provider(example: Path, outputs: dict[str, Path]) -> None:
    passing = gate(example, outputs["json"], "--model", "aurora-2.0")
    assert passing.code == 0, passing.out + passing.err
    assert passing.json()["model"] == "aurora-2.0"
    assert gate(example, outputs["json"], "--model", "aurora-3.0").code == 1


def test_promptfoo_xml_is_refused_naming_the_option_that_works(example: Path, outputs: dict[str, Path]) -> None:
    own = outputs["xml"]
    assert own.read_text().lstrip().startswith("<promptfoo>")
    result = gate(example, own)
    assert result.code == 2
    assert "this is promptfoo's own XML output (<promptfoo>), not a JUnit report" in result.err
    assert "-o results.json" in result.err


def test_pretty_printed_json_of_another_tool_is_refused(example: Path, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"tests": [{"name": "regression_INC_001", "ok": True}]}, indent=2))
    result = gate(example, path)
    assert result.code == 2
    assert "it looks like a pretty-printed JSON document that is neither an Inspect log nor promptfoo results" in result.err


def test_exported_file_is_what_promptfoo_documents(outputs: dict[str, Path]) -> None:
    cases: Any = yaml.safe_load((outputs["json"].parent / "suite.yaml").read_text())
    assert isinstance(cases, list) and all(c["options"]["disableVarExpansion"] is True for c in cases)


def test_the_readme_loop_is_the_one_run_here() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "incidentops suite export --format promptfoo --out suite.yaml" in readme
    assert "promptfoo eval -c promptfooconfig.yaml --repeat 3 -o results.json -o results.junit.xml" in readme
    for line in ('prompts: ["{{test_id}}"]', "  - id: file://provider.py", "    label: aurora-3.0",
                 "tests: file://suite.yaml"):
        assert line in readme and line in CONFIG
    assert "return provider_response(context, ask)" in readme
    assert "provider_response(context, reply)" in PROVIDER.read_text()
