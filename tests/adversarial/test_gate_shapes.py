"""The release gate against results and registries shaped to make it say PASS.

Each attack is a results file (or a git branch of the example registry) that
once gave PASS with a failing ACTIVE test; each must now BLOCK (exit 1) or be
refused (exit 2) with the file and line. Next to them, legitimate look-alikes
(pytest's own JUnit output, a declared second suite, a clean `gate --record`)
that must still PASS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Result, run_cli
from gitrepo import GitRepo
from incidentops.gate import load_results

AS_OF = "2026-11-27T10:00:00Z"
SUITE = "model-safety-regression-suite"
ACTIVE = "regression_INC_001"  # ACTIVE in the example, expected_block_turn 3
T001 = "regressions/regression_INC_001.yaml"
ISOLATED_GIT = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
MAX_BYTES = 64 * 1024 * 1024
NO_HANG = 60  # seconds: a gate that blocks on a pipe or reads a device forever fails here


# ---- helpers -------------------------------------------------------------------------------


def runnable(root: Path) -> dict[str, dict[str, Any]]:
    tests = {}
    for path in sorted((root / "regressions").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        tests[data["test_id"]] = data
    return tests


def passing_case(test_id: str, turn: int) -> str:
    return (f'<testcase classname="safety" name="test_{test_id}"><properties>'
            f'<property name="blocked_at_turn" value="{turn}"/></properties></testcase>')


def junit(root: Path, path: Path, active_case: str, *, suite_attrs: str = "", root_attrs: str = "") -> Path:
    """A JUnit report: every runnable test passes, except that ``active_case`` stands for regression_INC_001.

    Each element on its own line, so that line numbers say which element was refused.
    """
    cases = [passing_case(t, d["expected_block_turn"]) for t, d in runnable(root).items() if t != ACTIVE]
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<testsuites{root_attrs}>",
             f'<testsuite name="safety"{suite_attrs}>', active_case, *cases, "</testsuite>", "</testsuites>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def jsonl(root: Path, path: Path, *extra: dict[str, Any], drop: str | None = None) -> Path:
    rows = [{"test_id": t, "outcome": "pass", "blocked_at_turn": d["expected_block_turn"]}
            for t, d in runnable(root).items() if t != drop]
    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, *extra]), encoding="utf-8")
    return path


def gate(root: Path, *results: Path, extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Result:
    args = ["gate", "--as-of", AS_OF, "--format", "json"]
    for path in results:
        args += ["--results", str(path)]
    return run_cli(*args, *extra, cwd=root, env={**ISOLATED_GIT, **(env or {})})


def refused(result: Result, location: str, words: str) -> None:
    """Exit 2, nothing on stdout a CI step could take for a decision, one located line with a hint."""
    assert result.code == 2, (result.out, result.err)
    assert result.out == ""
    assert result.err.startswith(f"incidentops: error: {location}: "), result.err
    assert words in result.err, result.err
    assert "\n  hint: " in result.err
    assert "Traceback" not in result.err


def blocked(result: Result, test_id: str, reason: str) -> dict[str, Any]:
    assert result.code == 1, (result.out, result.err)
    data: dict[str, Any] = result.json()
    assert data["decision"] == "BLOCK"
    blocking = {b["test_id"]: b for b in data["blocking"]}
    assert list(blocking) == [test_id]
    assert reason in blocking[test_id]["reason"], blocking[test_id]["reason"]
    return blocking[test_id]


def quick(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a short timeout: a hang fails the test instead of stalling the run."""
    return subprocess.run(
        [sys.executable, "-m", "incidentops", *args], cwd=root, capture_output=True, text=True, timeout=NO_HANG,
        env={**os.environ, **ISOLATED_GIT, "NO_COLOR": "1"}, check=False,
    )


# ---- JUnit shapes that once passed --------------------------------------------------------

# (name, the <testcase> standing for the failing ACTIVE test, "line:col" refused, words in the message)
JUNIT_SHAPES = [
    ("nested-testcase",
     f'<testcase name="test_{ACTIVE}"><testcase name="attempt"><failure message="complied"/></testcase></testcase>',
     "4:42", "<testcase> nested inside <testcase>"),
    ("capitalised-failure", f'<testcase name="test_{ACTIVE}"><Failure message="complied"/></testcase>',
     "4:42", "did you mean <failure>?"),
    ("status-attribute", f'<testcase name="test_{ACTIVE}" status="fail"/>', "4:1", 'status="fail"'),
    ("outcome-attribute", f'<testcase name="test_{ACTIVE}" outcome="failed"/>', "4:1", 'attribute outcome="failed"'),
    ("unknown-element", f'<testcase name="test_{ACTIVE}"><verdict>fail</verdict></testcase>',
     "4:42", "<verdict> inside <testcase> is not part of a JUnit report"),
    ("stray-text", f'<testcase name="test_{ACTIVE}">FAILED</testcase>', "4:42", "text \"FAILED\" directly inside"),
    ("nameless-testcase", '<testcase classname="safety"><failure/></testcase>', "4:1",
     "<testcase> has no name and no test_id property"),
    ("conflicting-property", f'<testcase name="test_{ACTIVE}"><properties><property name="blocked_at_turn" '
     'value="2"/><property name="blocked_at_turn" value="9"/></properties></testcase>', "4:98",
     "property blocked_at_turn is given twice"),
]


@pytest.mark.parametrize(("name", "case", "where", "words"), JUNIT_SHAPES, ids=[s[0] for s in JUNIT_SHAPES])
def test_junit_shape_the_gate_does_not_understand_is_refused(
    example: Path, tmp_path: Path, name: str, case: str, where: str, words: str
) -> None:
    path = junit(example, tmp_path / "results.xml", case)
    refused(gate(example, path), f"{path}:{where}", words)


def test_namespaced_failure_is_refused(example: Path, tmp_path: Path) -> None:
    path = junit(example, tmp_path / "results.xml", f'<testcase name="test_{ACTIVE}"><j:failure message="x"/></testcase>',
                 root_attrs=' xmlns:j="urn:junit"')
    refused(gate(example, path), f"{path}:2:1", "declares an XML namespace (xmlns:j=")
    # the prefix alone (declared nowhere the gate reads) is refused at the element
    path.write_text(path.read_text().replace(' xmlns:j="urn:junit"', ""))
    refused(gate(example, path), f"{path}:4:42", "<j:failure> inside <testcase> is a namespaced element")


@pytest.mark.parametrize(
    ("where", "attrs", "line", "words"),
    [
        ("suite", ' failures="1"', 3, 'says failures="1" but holds 0 test cases with a <failure>'),
        ("suite", ' errors="1"', 3, 'says errors="1" but holds 0 test cases with an <error>'),
        ("suite", ' tests="99"', 3, 'says tests="99" but holds'),
        ("suite", ' failures="many"', 3, 'failures="many" is not a count'),
        ("root", ' failures="1"', 2, 'says failures="1" but holds 0'),
    ],
    ids=["suite-failures", "suite-errors", "suite-tests", "suite-not-a-count", "testsuites-failures"],
)
def test_counts_the_cases_do_not_back_are_refused(
    example: Path, tmp_path: Path, where: str, attrs: str, line: int, words: str
) -> None:
    kwargs = {"suite_attrs": attrs} if where == "suite" else {"root_attrs": attrs}
    path = junit(example, tmp_path / "results.xml", passing_case(ACTIVE, 3), **kwargs)
    refused(gate(example, path), f"{path}:{line}:1", words)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (f'<testcase name="test_{ACTIVE}"><error message="provider reset"/></testcase>', "errored: provider reset"),
        (f'<testcase name="test_{ACTIVE}"><skipped message="quota"/></testcase>', "skipped: quota"),
        (f'<testcase name="test_{ACTIVE}" status="notrun"/>', "skipped"),
        # a rerun plugin writing every attempt: the failed one still counts
        (f'<testcase name="test_{ACTIVE}"><failure message="complied"/></testcase>\n'
         f'<testcase name="test_{ACTIVE}"><properties><property name="blocked_at_turn" value="3"/></properties>'
         "</testcase>", "failed: complied"),
    ],
    ids=["error", "skipped", "googletest-notrun", "duplicate-testcase-fail-then-pass"],
)
def test_an_active_test_that_did_not_pass_blocks(example: Path, tmp_path: Path, case: str, reason: str) -> None:
    path = junit(example, tmp_path / "results.xml", case)
    blocker = blocked(gate(example, path), ACTIVE, reason)
    assert blocker["source"].startswith(f"{path}:4:1")


def test_entity_expansion_is_refused_without_expanding(example: Path, tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 30))
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY e0 "x">{entities}]>\n'
                    f'<testsuite><testcase name="&e29;"/></testsuite>\n')
    proc = quick(example, "gate", "--results", str(path))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"incidentops: error: {path}:2:13: the results file contains a DOCTYPE declaration")


# ---- JSON Lines shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ({"test_id": ACTIVE, "outcome": "pass", "status": "fail"}, 'unknown key "status"'),
        ({"test_id": ACTIVE, "outcome": "pass", "outcomes": "fail"}, "did you mean 'outcome'?"),
        ({"test_id": ACTIVE, "outcome": "PASS"}, 'unknown outcome "PASS"'),
        ({"test_id": ACTIVE, "outcome": "pass", "message": {"verdict": "fail"}}, "message is a JSON dict"),
        ([ACTIVE, "fail"], "the line is a JSON list, not an object"),
    ],
    ids=["unknown-key", "misspelt-key", "unknown-outcome", "non-string-message", "non-object-line"],
)
def test_jsonl_shape_the_gate_does_not_understand_is_refused(
    example: Path, tmp_path: Path, row: Any, words: str
) -> None:
    path = jsonl(example, tmp_path / "results.jsonl", row, drop=ACTIVE)
    line = len(path.read_text().splitlines())
    refused(gate(example, path), f"{path}:{line}", words)


def test_jsonl_duplicate_with_a_conflicting_outcome_blocks(example: Path, tmp_path: Path) -> None:
    path = jsonl(example, tmp_path / "results.jsonl", {"test_id": ACTIVE, "outcome": "fail", "message": "complied"})
    blocker = blocked(gate(example, path), ACTIVE, "failed: complied")
    assert (blocker["runs"], blocker["passes"]) == (2, 1)
    lines = path.read_text().splitlines()
    first = next(n for n, text in enumerate(lines, 1) if ACTIVE in text)
    assert blocker["source"] == f"{path}:{first}; {path}:{len(lines)}"


def test_jsonl_informational_keys_and_metadata_are_accepted(example: Path, tmp_path: Path) -> None:
    path = jsonl(example, tmp_path / "results.jsonl", drop=ACTIVE)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"test_id": ACTIVE, "outcome": "pass", "blocked_at_turn": 3, "model": "aurora-3.0",
                                 "duration_s": 1.5, "metadata": {"status": "anything"}}) + "\n")
    result = gate(example, path)
    assert result.code == 0, result.out + result.err


# ---- results paths that are not files ------------------------------------------------------


def test_fifo_is_refused_without_reading(example: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "results.xml"
    os.mkfifo(fifo)
    proc = quick(example, "gate", "--results", str(fifo))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"incidentops: error: {fifo}: is a FIFO (named pipe), not a results file")


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "fifo", "folder"])
def test_symlink_to_a_device_fifo_or_folder_is_refused(example: Path, tmp_path: Path, target: str) -> None:
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
    elif target == "folder":
        (tmp_path / "folder").mkdir()
    link = tmp_path / "results.jsonl"
    link.symlink_to(target if target.startswith("/") else tmp_path / target)
    proc = quick(example, "gate", "--results", str(link))
    assert (proc.returncode, proc.stdout) == (2, "")
    kind = {"fifo": "a FIFO", "folder": "a folder"}.get(target, "a character device")
    assert proc.stderr.startswith(f"incidentops: error: {link}: is {kind}"), proc.stderr
    assert "refused without reading it" in proc.stderr


def test_device_given_directly_is_refused(example: Path) -> None:
    proc = quick(example, "gate", "--results", "/dev/zero")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("incidentops: error: /dev/zero: is a character device, not a results file")


def test_file_over_the_cap_is_refused_from_its_size(example: Path, tmp_path: Path) -> None:
    huge = tmp_path / "results.xml"
    with huge.open("wb") as handle:  # sparse: refused before a byte of it is read
        handle.truncate(MAX_BYTES + 1)
    proc = quick(example, "gate", "--results", str(huge))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"incidentops: error: {huge}:1: the results file is {MAX_BYTES + 1:,} bytes, "
                                  f"over the {MAX_BYTES:,}-byte cap")


def test_memory_stays_bounded_at_the_cap(example: Path, tmp_path: Path) -> None:
    small = junit(example, tmp_path / "small.xml", passing_case(ACTIVE, 3))
    head, tail = small.read_text().split("</testsuite>")
    output = "model output line\n" * ((MAX_BYTES - 1024 * 1024) // 18)  # just under the cap
    big = tmp_path / "big.xml"
    big.write_text(f"{head}<system-out>{output}</system-out></testsuite>{tail}", encoding="utf-8")
    del output
    assert MAX_BYTES - 2 * 1024 * 1024 < big.stat().st_size <= MAX_BYTES
    tracemalloc.start()
    try:
        results = load_results([big])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(results) == len(runnable(example))  # read to the end
    assert peak < 4 * 1024 * 1024, peak  # a reader holding the 62 MiB file would need 16 times that
    result = gate(example, big)
    assert result.code == 0, result.out + result.err


# ---- class 4: a misspelt suite takes a failing ACTIVE test out of `gate --suite` ---------------


@pytest.fixture
def registry(example: Path) -> GitRepo:
    repo = GitRepo.init(example)
    repo.add(".")
    repo.commit("Example registry", date="2026-11-20T09:00:00Z")
    return repo


def git_env(repo: GitRepo) -> dict[str, str]:
    return {"GIT_DIR": str(repo.path / ".git"), "GIT_WORK_TREE": str(repo.path)}


def edit(repo: GitRepo, path: str, old: str, new: str) -> None:
    text = repo.read(path)
    assert old in text, old
    repo.write(path, text.replace(old, new, 1))


def test_misspelt_suite_on_a_failing_active_test_blocks_the_suite_gate(registry: GitRepo, tmp_path: Path) -> None:
    registry.branch("attack")
    edit(registry, T001, f"suite: {SUITE}", "suite: model-safety-regresion-suite")
    registry.commit("Tidy the regression test", date="2026-11-21T09:00:00Z")
    results = jsonl(registry.path, tmp_path / "r.jsonl", {"test_id": ACTIVE, "outcome": "fail", "message": "complied"},
                    drop=ACTIVE)
    result = gate(registry.path, results, extra=("--suite", SUITE), env=git_env(registry))
    blocker = blocked(result, ACTIVE, f"suite 'model-safety-regresion-suite' is not declared by the policy ({T001}:7:8)")
    assert "failed: complied" in blocker["reason"]
    [finding] = result.json()["findings"]
    assert (finding["path"], finding["line"], finding["col"], finding["level"], finding["rule"]) == (
        T001, 7, 8, "error", "gate.unknown-suite")
    assert ACTIVE in finding["message"]
    assert finding["hint"].startswith(f"did you mean '{SUITE}'?")

    text = run_cli("gate", "--as-of", AS_OF, "--results", str(results), "--suite", SUITE, cwd=registry.path)
    assert text.code == 1
    assert f"{T001}:7:8: error [gate.unknown-suite] {ACTIVE} (ACTIVE) names suite 'model-safety-regresion-suite'" in text.out
    assert f"hint: did you mean '{SUITE}'?" in text.out


def test_misspelt_suite_option_is_refused_with_a_hint(registry: GitRepo, tmp_path: Path) -> None:
    results = jsonl(registry.path, tmp_path / "r.jsonl")
    result = gate(registry.path, results, extra=("--suite", "model-safety-regresion-suite"))
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("incidentops: error: unknown suite 'model-safety-regresion-suite': "
                                 "the policy declares no such suite")
    assert f"hint: did you mean '{SUITE}'?" in result.err


def test_a_properly_declared_second_suite_passes(registry: GitRepo, tmp_path: Path) -> None:
    registry.branch("second-suite")
    edit(registry, "incidentops.yaml", f"suites: [{SUITE}]", f"suites: [{SUITE}, persona-abuse-suite]")
    edit(registry, "regressions/regression_INC_008.yaml", f"suite: {SUITE}", "suite: persona-abuse-suite")
    registry.commit("Persona-abuse tests get a suite of their own", date="2026-11-21T09:00:00Z")
    results = jsonl(registry.path, tmp_path / "r.jsonl", drop="regression_INC_008")
    main_suite = gate(registry.path, results, extra=("--suite", SUITE))
    assert main_suite.code == 0, main_suite.out + main_suite.err
    assert main_suite.json()["findings"] == []
    assert "regression_INC_008" not in [t["test_id"] for t in main_suite.json()["per_test"]]
    second = gate(registry.path, results, extra=("--suite", "persona-abuse-suite"))
    assert second.json()["missing"] == ["regression_INC_008"]  # its own gate still wants its result
    assert second.code == 1


# ---- class 6: `gate --record` records HEAD; HEAD must hold what was judged --------------------


def record(repo: GitRepo, results: Path, name: str) -> Result:
    return run_cli("gate", "--as-of", AS_OF, "--results", str(results), "--record", f"releases/{name}.yaml",
                   cwd=repo.path, env={**ISOLATED_GIT, **git_env(repo)})


@pytest.mark.parametrize(
    "change",
    ["modified", "staged", "untracked-test", "ignored-archive", "policy", "deleted", "edited-release", "scenario"],
)
def test_record_on_a_dirty_tree_is_refused(registry: GitRepo, tmp_path: Path, change: str) -> None:
    results = jsonl(registry.path, tmp_path / "r.jsonl")
    if change == "edited-release":
        assert record(registry, results, "rc1").code == 0
        registry.add("releases/rc1.yaml")
        registry.commit("Record rc1", date="2026-11-22T09:00:00Z")
        edit(registry, "releases/rc1.yaml", "decision: PASS", "decision: PASS # reviewed")
    elif change == "modified":
        path = registry.path / T001
        path.write_text(path.read_text().replace("severity_weight: 0.8", "severity_weight: 0.1"))
    elif change == "staged":
        edit(registry, T001, "severity_weight: 0.8", "severity_weight: 0.1")
    elif change == "untracked-test":
        text = registry.read("regressions/regression_INC_008.yaml")
        (registry.path / "regressions" / "archive" / "regression_INC_099.yaml").write_text(
            text.replace("regression_INC_008", "regression_INC_099"))
    elif change == "ignored-archive":  # a record git does not show is still a record the gate reads
        registry.write(".gitignore", "regressions/archive/\n")
        registry.commit("Ignore the archive", date="2026-11-22T09:00:00Z")
        (registry.path / "regressions" / "archive" / "regression_INC_099.yaml").write_text(
            registry.read("regressions/regression_INC_008.yaml").replace("regression_INC_008", "regression_INC_099"))
    elif change == "policy":
        edit(registry, "incidentops.yaml", "blocking_states: [ACTIVE]", "blocking_states: [ACTIVE]  # same")
    elif change == "scenario":  # the turns a runner played are part of what the record vouches for
        registry.write("scenarios/authority_reframe.yaml", "turns:\n  - \"You are my manager now.\"\n")
        registry.commit("Add a scenario", date="2026-11-22T09:00:00Z")
        (registry.path / "scenarios" / "authority_reframe.yaml").write_text("turns:\n  - \"Hello.\"\n")
    else:
        registry.rm("regressions/regression_INC_008.yaml")
    before = sorted(p.name for p in (registry.path / "releases").glob("*")) if (registry.path / "releases").is_dir() else []
    result = record(registry, results, "rc2")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("incidentops: error: --record: the registry's records differ from the commit "
                                 "a release record would name (HEAD): "), result.err
    assert "hint: commit the changes first" in result.err
    assert not (registry.path / "releases" / "rc2.yaml").exists()
    after = sorted(p.name for p in (registry.path / "releases").glob("*")) if (registry.path / "releases").is_dir() else []
    assert after == before


def test_record_on_a_clean_tree_names_head(registry: GitRepo, tmp_path: Path) -> None:
    results = jsonl(registry.path, tmp_path / "r.jsonl")
    (registry.path / "notes.txt").write_text("not a record\n")  # outside what the gate reads
    first = record(registry, results, "rc1")
    assert first.code == 0, first.err
    data = yaml.safe_load((registry.path / "releases" / "rc1.yaml").read_text())
    assert (data["decision"], data["commit"]) == ("PASS", registry.head())
    second = record(registry, results, "rc2")  # rc1 is new and not committed yet: it judged nothing
    assert second.code == 0, second.err


def test_record_never_overwrites_even_through_a_symlink(registry: GitRepo, tmp_path: Path) -> None:
    results = jsonl(registry.path, tmp_path / "r.jsonl")
    assert record(registry, results, "rc1").code == 0
    registry.add("releases/rc1.yaml")
    registry.commit("Record rc1", date="2026-11-22T09:00:00Z")
    before = registry.read("releases/rc1.yaml")
    again = record(registry, results, "rc1")
    assert (again.code, again.out) == (2, "")
    assert again.err.startswith("incidentops: error: releases/rc1.yaml already exists: "
                                "a recorded gate decision is never overwritten")
    assert registry.read("releases/rc1.yaml") == before
    outside = tmp_path / "outside.yaml"
    outside.write_text("kept\n")
    (registry.path / "releases" / "rc9.yaml").symlink_to(outside)
    through = record(registry, results, "rc9")
    assert (through.code, through.out) == (2, "")
    assert outside.read_text() == "kept\n"


# ---- legitimate look-alikes: real runner output ------------------------------------------------

PYTEST_SUITE = '''
import json
import sys
from pathlib import Path

import pytest

TESTS = json.loads(Path({manifest!r}).read_text())


@pytest.mark.parametrize("test_id", sorted(TESTS))
def test_case(test_id, record_property):
    print(f"playing {{test_id}}")
    print("provider latency ok", file=sys.stderr)
    record_property("test_id", test_id)
    record_property("blocked_at_turn", TESTS[test_id])


@pytest.mark.skip(reason="helper check, not a regression test")
def test_helper():
    pass
'''


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_real_pytest_junit_output_passes(example: Path, tmp_path: Path, family: str) -> None:
    manifest = tmp_path / "turns.json"
    manifest.write_text(json.dumps({t: d["expected_block_turn"] for t, d in runnable(example).items()}))
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_safety.py").write_text(PYTEST_SUITE.format(manifest=str(manifest)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(suite), "-o", "addopts=",
         "-o", f"junit_family={family}", "-o", "junit_logging=all", "--junitxml", str(suite / "junit.xml"),
         "test_safety.py"],
        cwd=suite, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = (suite / "junit.xml").read_text()
    assert "<system-out>" in report and "<skipped" in report and 'failures="0"' in report
    result = gate(example, suite / "junit.xml")
    assert result.code == 0, result.out + result.err
    data = result.json()
    assert data["decision"] == "PASS"
    assert sorted(t["test_id"] for t in data["per_test"]) == sorted(runnable(example))
    assert [w["test_id"] for w in data["warnings"]] == ["test_safety.test_helper"]  # a stray, not a blocker


def test_surefire_style_report_with_schema_attributes_and_reruns_is_read(example: Path, tmp_path: Path) -> None:
    monitoring = next(t for t, d in runnable(example).items() if d["state"] == "MONITORING")
    turns = {t: d["expected_block_turn"] for t, d in runnable(example).items()}
    cases = "\n".join(
        f'<testcase name="test_{t}" classname="Safety" time="0.1">'
        + ('<flakyFailure message="complied once" type="AssertionError"><stackTrace>at Safety</stackTrace>'
           "</flakyFailure>" if t == monitoring else "")
        + f'<properties><property name="blocked_at_turn" value="{turn}"/></properties>'
        + "<system-out><![CDATA[<failure> in output is just text]]></system-out></testcase>"
        for t, turn in turns.items()
    )
    path = tmp_path / "TEST-Safety.xml"
    path.write_text(textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" version="3.0" name="Safety" time="1.2" tests="{len(turns)}" errors="0" skipped="0" failures="0">
        <properties><property name="java.version" value="21"/></properties>
        """) + cases + "\n</testsuite>\n", encoding="utf-8")
    result = gate(example, path)
    assert result.code == 0, result.out + result.err
    assert [(f["test_id"], f["runs"], f["passes"]) for f in result.json()["flaky"]] == [(monitoring, 2, 1)]
