"""The real `inspect eval` of the shipped task (Inspect's offline mock model), gated.

The scripted run: two tests pass, one refuses late, one errors, one is flaky (it
complies in one of three epochs); MONITORING and DEPRECATED tests pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, Result, run_cli

AS_OF = "2026-11-27T10:00:00Z"
INSPECT = Path(sys.executable).with_name("inspect")
SCRIPTED = REPO / "tests" / "data" / "runners" / "inspect_scripted.py"
SCRIPT = {
    "regression_INC_001": {"refuse_at": 2},                          # ACTIVE, expected by 3: passes
    "regression_INC_003": {"refuse_at": 2},                          # ACTIVE, expected by 1: late
    "regression_INC_006": {"error": True},                           # ACTIVE: the provider errors
    "regression_INC_008": {"refuse_at": 3, "comply_on_runs": [2]},   # ACTIVE, expected by 4: flaky
    "regression_INC_005": {"refuse_at": 1},                          # DEPRECATED
    "regression_INC_007": {"refuse_at": 5},                          # MONITORING
}
BLOCKING = ["regression_INC_003", "regression_INC_006", "regression_INC_008"]


def inspect_eval(registry: Path, work: Path, *extra: str) -> Path:
    """Export the suite, run the scripted eval with 3 epochs, return the one log it wrote."""
    exported = run_cli("suite", "export", "--format", "inspect", "--out", str(work / "suite.jsonl"), cwd=registry)
    assert exported.code == 0, exported.err
    (work / "script.json").write_text(json.dumps(SCRIPT))
    shutil.copy2(SCRIPTED, work / SCRIPTED.name)  # Inspect takes a task file relative to its working folder
    logs = work / "logs"
    env = {**os.environ, "INSPECT_LOG_DIR": str(logs), "NO_COLOR": "1"}
    completed = subprocess.run(
        [str(INSPECT), "eval", SCRIPTED.name, "-T", f"suite={work / 'suite.jsonl'}", "-T",
         f"script={work / 'script.json'}", "--epochs", "3", "--no-fail-on-error", "--display", "none",
         "--log-dir", str(logs), *extra],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [log] = sorted(logs.iterdir())
    return log


def gate(registry: Path, *paths: Path, extra: tuple[str, ...] = ()) -> Result:
    args = ["gate", "--as-of", AS_OF, "--format", "json"]
    for path in paths:
        args += ["--results", str(path)]
    return run_cli(*args, *extra, cwd=registry)


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["test_id"]: o for o in data["per_test"]}


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    registry = tmp_path_factory.mktemp("registry")
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, registry / name)
    shutil.copytree(REPO / "regressions", registry / "regressions")
    found = {}
    for fmt in ("eval", "json"):
        work = tmp_path_factory.mktemp(f"inspect-{fmt}")
        found[fmt] = inspect_eval(registry, work, "--log-format", fmt)
    return found


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_gate_judges_every_sample_of_a_real_inspect_log(example: Path, logs: dict[str, Path], fmt: str) -> None:
    log = logs[fmt]
    assert log.suffix == f".{fmt}"
    result = gate(example, log)
    assert result.code == 1, result.out + result.err
    data = result.json()
    assert data["decision"] == "BLOCK"
    assert data["inputs"] == [{"path": str(log), "format": "Inspect log", "results": 18}]
    assert data["model"] == "mockllm/model"
    assert [o["test_id"] for o in data["blocking"]] == BLOCKING
    tests = by_id(data)
    assert tests["regression_INC_001"]["verdict"] == "pass"
    assert (tests["regression_INC_001"]["runs"], tests["regression_INC_001"]["passes"]) == (3, 3)
    assert tests["regression_INC_001"]["blocked_at_turn"] == 2
    late = tests["regression_INC_003"]
    assert late["reason"] == "failed: refused at turn 2, expected at or before turn 1 (3 of 3 runs failed)"
    errored = tests["regression_INC_006"]
    assert errored["outcome"] == "error"  # Inspect's accuracy leaves these samples out; the gate never does
    assert "provider unavailable for regression_INC_006" in errored["reason"]
    assert errored["reason"].endswith("(3 of 3 runs failed)")
    flaky = tests["regression_INC_008"]
    assert (flaky["runs"], flaky["passes"]) == (3, 2)
    assert [(f["test_id"], f["runs"], f["passes"], f["check"]) for f in data["flaky"]] == [
        ("regression_INC_008", 3, 2, "refused_by_expected_turn")]
    assert [round(v, 3) for v in data["flaky"][0]["interval"]] == [0.208, 0.939]
    assert {t: o["verdict"] for t, o in tests.items() if not o["blocking"]} == {
        "regression_INC_005": "pass", "regression_INC_007": "pass"}


def test_a_pass_threshold_lets_the_flaky_test_pass(example: Path, logs: dict[str, Path]) -> None:
    record = example / "regressions" / "regression_INC_008.yaml"
    record.write_text(record.read_text() + "pass_threshold: {passes: 2, runs: 3}\n")
    data = gate(example, logs["eval"]).json()
    assert [o["test_id"] for o in data["blocking"]] == BLOCKING[:2]
    assert by_id(data)["regression_INC_008"]["verdict"] == "pass"
    record.write_text(record.read_text().replace("passes: 2, runs: 3", "passes: 9, runs: 10"))
    data = gate(example, logs["eval"]).json()
    assert by_id(data)["regression_INC_008"]["reason"] == (
        "failed: never refused in 4 turns (expected at or before turn 4) (1 of 3 runs failed, needs 9 of 10); "
        "ran 3 of the 10 runs required")


def test_text_report_names_the_format_and_the_wilson_interval(example: Path, logs: dict[str, Path]) -> None:
    result = run_cli("gate", "--as-of", AS_OF, "--results", str(logs["eval"]), cwd=example)
    assert result.code == 1
    assert f"read {logs['eval']}: Inspect log, 18 results" in result.out
    assert "regression_INC_008: 2 of 3 runs passed (67%, 95% Wilson interval 21%-94%)" in result.out


def test_model_option_picks_the_log_model_and_refuses_another(example: Path, logs: dict[str, Path]) -> None:
    assert gate(example, logs["eval"], extra=("--model", "mockllm/model")).code == 1
    wrong = gate(example, logs["eval"], extra=("--model", "mockllm/modle"))
    assert wrong.code == 2
    assert "no results for model 'mockllm/modle'" in wrong.err and "did you mean 'mockllm/model'?" in wrong.err


def test_without_the_extra_an_inspect_log_is_a_clear_error(example: Path, logs: dict[str, Path],
                                                          tmp_path: Path) -> None:
    blocker = tmp_path / "no-inspect" / "inspect_ai"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('inspect_ai is not installed')\n")
    path = f"{blocker.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    result = run_cli("gate", "--results", str(logs["eval"]), cwd=example, env={"PYTHONPATH": path})
    assert result.code == 2
    assert f"{logs['eval']}:1: an Inspect log, and Inspect AI is not installed" in result.err
    assert "pip install 'incidentops[inspect]'" in result.err


def test_a_zip_that_is_no_eval_log_is_refused(example: Path, tmp_path: Path) -> None:
    path = tmp_path / "results.eval"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    result = gate(example, path)
    assert result.code == 2
    assert result.err.startswith(f"incidentops: error: {path}:1: Inspect cannot read this log")


def test_the_task_is_registered_for_inspect_eval_by_name() -> None:
    code = ("from inspect_ai._util.registry import registry_lookup; "
            "print(registry_lookup('task', 'incidentops/regression_suite') is not None)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert completed.stdout.strip() == "True"


def test_the_readme_loop_is_the_one_run_here() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "incidentops suite export --format inspect --out suite.jsonl" in readme
    assert "inspect eval incidentops/regression_suite -T suite=suite.jsonl" in readme
    assert "--no-fail-on-error" in readme
    assert "return task_with(regression_suite(suite=suite)" in SCRIPTED.read_text()  # the shipped task, unchanged
