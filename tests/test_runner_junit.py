"""JUnit reports from real runners, gated: pytest (xunit1, xunit2, pytest-rerunfailures) and jest + jest-junit.

Each suite plays the same scripted run: two tests pass, one refuses late, one errors,
one is flaky; the names follow each runner's conventions (PEP 8 lower case, a suffix
after the id, a test class named after the id, jest's describe/it titles).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, Result, run_cli

AS_OF = "2026-11-27T10:00:00Z"
BLOCKING = ["regression_INC_003", "regression_INC_006", "regression_INC_008"]
NPM_BIN = REPO / ".npm-tools" / "node_modules"

PYTEST_SUITE = textwrap.dedent('''\
    import pathlib

    import pytest

    COUNTS = pathlib.Path(__file__).with_name("attempts")


    def attempt(name):
        path = COUNTS / name
        COUNTS.mkdir(exist_ok=True)
        number = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(number))
        return number


    @pytest.fixture
    def provider():
        raise ConnectionError("provider unavailable")


    def test_regression_inc_001():                      # PEP 8 lower case
        assert True


    def test_regression_INC_003_refuses_by_turn_1():    # the id, then what it checks
        assert False, "refused at turn 2, expected at or before turn 1"


    class TestRegression_INC_006:                       # a class named after the id
        def test_refuses(self, provider):
            assert provider


    def test_regression_INC_008():                      # complies on its first attempt only
        assert attempt("008") > 1, "complied: never refused"


    def test_regression_INC_005():
        assert True


    def test_regresion_INC_007():                       # a typo: a near miss
        assert True
    ''')


def gate(registry: Path, path: Path) -> Result:
    return run_cli("gate", "--as-of", AS_OF, "--format", "json", "--results", str(path), cwd=registry)


def run_pytest(tmp_path: Path, family: str, *extra: str) -> Path:
    (tmp_path / "test_safety.py").write_text(PYTEST_SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    report = tmp_path / "results.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-o", "addopts=",
         "-o", f"junit_family={family}", "--junitxml", str(report), *extra, "test_safety.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    return report


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
@pytest.mark.parametrize("reruns", [False, True])
def test_pytest_report_is_matched_and_judged(example: Path, tmp_path: Path, family: str, reruns: bool) -> None:
    report = run_pytest(tmp_path, family, *(["--reruns", "2"] if reruns else []))
    result = gate(example, report)
    assert result.code == 1, result.out + result.err
    data = result.json()
    assert data["inputs"][0]["format"] == "JUnit XML"
    if reruns:  # the flaky test passed on its rerun: its failed attempt is a failed run, never a pass
        assert [o["test_id"] for o in data["blocking"]] == BLOCKING
        assert [(f["test_id"], f["runs"], f["passes"]) for f in data["flaky"]] == [("regression_INC_008", 2, 1)]
        runs = {o["test_id"]: (o["runs"], o["passes"]) for o in data["per_test"]}
        assert runs["regression_INC_003"] == (3, 0)  # failed every run: blocking, and never called flaky
    else:
        assert [o["test_id"] for o in data["blocking"]] == BLOCKING
        assert data["flaky"] == []
    tests = {o["test_id"]: o for o in data["per_test"]}
    assert tests["regression_INC_001"]["verdict"] == "pass"
    assert "refused at turn 2, expected at or before turn 1" in tests["regression_INC_003"]["reason"]
    # with reruns, pytest-rerunfailures writes the errored attempts as empty test cases: failed runs
    assert tests["regression_INC_006"]["outcome"] == ("fail" if reruns else "error")
    assert "ConnectionError: provider unavailable" in tests["regression_INC_006"]["reason"]
    near = [w["message"] for w in data["warnings"]]
    assert any("result for unknown test test_safety.test_regresion_INC_007" in m
               and "did you mean regression_INC_007?" in m for m in near), near
    assert any(m.startswith("regression_INC_007 (MONITORING, not blocking): no result")
               and "did you mean test_safety.test_regresion_INC_007?" in m for m in near), near


def test_a_name_matching_two_tests_is_an_error_never_a_guess(example: Path, tmp_path: Path) -> None:
    path = tmp_path / "results.xml"
    path.write_text('<testsuite tests="1"><testcase classname="TestRegression_INC_001" '
                    'name="test_regression_INC_003"/></testsuite>')
    result = gate(example, path)
    assert result.code == 2
    assert "matches several regression tests: regression_INC_003" in result.err
    assert "regression_INC_001 (from 'TestRegression_INC_001')" in result.err


JEST_SUITE = textwrap.dedent('''\
    const fs = require("fs");
    const path = require("path");
    const attempts = path.join(__dirname, "attempts.json");

    describe("regression_INC_001", () => {
      test("refuses by turn 3", () => { expect(2).toBeLessThanOrEqual(3); });
    });
    describe("regression_INC_003", () => {
      test("refuses by turn 1", () => { expect(2).toBeLessThanOrEqual(1); });
    });
    describe("regression_INC_006", () => {
      test("refuses", () => { throw new Error("provider unavailable"); });
    });
    describe("regression_INC_008", () => {
      test("refuses by turn 4", () => {
        const seen = fs.existsSync(attempts) ? JSON.parse(fs.readFileSync(attempts)) : 0;
        fs.writeFileSync(attempts, JSON.stringify(seen + 1));
        expect(seen).toBeGreaterThan(0);
      });
    });
    describe("regression_INC_005", () => { test("refuses by turn 3", () => {}); });
    describe("regression_INC_007", () => { test("refuses by turn 5", () => {}); });
    ''')


def run_jest(folder: Path) -> Path:
    assert (NPM_BIN / ".bin" / "jest").exists(), "jest is not installed: run scripts/ensure-npm-tools (make test does)"
    (folder / "safety.test.js").write_text(JEST_SUITE)
    (folder / "package.json").write_text(json.dumps({"name": "safety", "private": True}))
    report = folder / "results.xml"
    env = {**os.environ, "JEST_JUNIT_OUTPUT_FILE": str(report), "NO_COLOR": "1"}
    completed = subprocess.run(
        [str(NPM_BIN / ".bin" / "jest"), "--ci", "--rootDir", str(folder), "--reporters=default",
         f"--reporters={NPM_BIN / 'jest-junit'}"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr  # jest: some tests failed
    return report


def test_jest_junit_report_is_matched_and_judged(example: Path, tmp_path: Path) -> None:
    result = gate(example, run_jest(tmp_path))
    assert result.code == 1, result.out + result.err
    data = result.json()
    # jest-junit names a test "<describe> <it>": the id is the longest registry id the name starts with
    assert [o["test_id"] for o in data["blocking"]] == BLOCKING
    tests = {o["test_id"]: o for o in data["per_test"]}
    assert "provider unavailable" in tests["regression_INC_006"]["reason"]
    assert {t: o["verdict"] for t, o in tests.items() if t not in BLOCKING} == {
        "regression_INC_001": "pass", "regression_INC_005": "pass", "regression_INC_007": "pass"}
