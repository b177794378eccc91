"""`incidentops status` and `show`, examples in every --help, colour only on a terminal, completion."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run_cli

ANSI = "\x1b["


def test_status_lists_what_needs_doing_and_exits_1_when_something_does(example: Path):
    result = run_cli("status", "--format", "json", "--as-of", "2027-02-01", cwd=example)
    assert result.code == 1, result.err
    status = result.json()
    assert set(status) == {"as_of", "open_incidents", "overdue_actions", "blocking_tests", "review_due",
                           "review_due_unknown", "last_gate", "provisional", "attention"}
    open_ids = {i["id"] for i in status["open_incidents"]}
    assert open_ids == {"INC_008", "INC_009"}
    assert all(i["status"] in ("open", "mitigated") for i in status["open_incidents"])
    assert {i["sla"]["status"] for i in status["open_incidents"]} <= {"met", "pending", "breached"}
    assert [(a["incident"], a["id"], a["days_overdue"]) for a in status["overdue_actions"]] == [("INC_001", "A4", 3)]
    assert {t["id"] for t in status["blocking_tests"]} == {
        "regression_INC_001", "regression_INC_003", "regression_INC_006", "regression_INC_008"}
    assert status["attention"] == ["1 overdue action item(s)"]
    text = run_cli("status", "--as-of", "2027-02-01", cwd=example)
    assert text.code == 1
    assert "Overdue action items (1)" in text.out and "INC_001 A4   due 2027-01-29 3 day(s) late" in text.out
    assert ANSI not in text.out  # piped: no colour
    calm = run_cli("status", "--format", "json", "--as-of", "2027-01-01", cwd=example)
    assert calm.code == 0 and calm.json()["attention"] == []


def test_status_shows_the_last_gate_decision(example: Path, tmp_path: Path):
    suite = run_cli("suite", "export", "--format", "jsonl", "--out", str(tmp_path / "suite.jsonl"), cwd=example)
    assert suite.code == 0, suite.err
    tests = [json.loads(line)["test_id"] for line in (tmp_path / "suite.jsonl").read_text().splitlines()]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps({"test_id": t, "outcome": "fail" if t == "regression_INC_001" else "pass"})
                               + "\n" for t in tests))
    outside_git = {"GIT_CEILING_DIRECTORIES": str(example.parent)}
    record = run_cli("gate", "--as-of", "2026-12-01T10:00:00Z", "--results", str(results), "--record",
                     "releases/aurora-3.1-rc1.yaml", cwd=example, env=outside_git)
    assert record.code == 1, record.err
    result = run_cli("status", "--format", "json", "--as-of", "2027-01-01", cwd=example, env=outside_git)
    assert result.code == 1
    status = result.json()
    assert status["last_gate"]["decision"] == "BLOCK" and status["last_gate"]["blocking"] == ["regression_INC_001"]
    assert status["last_gate"]["path"] == "releases/aurora-3.1-rc1.yaml"
    assert status["attention"] == ["the last gate decision (aurora-3.1-rc1) is BLOCK"]


def test_show_an_incident_with_what_its_page_shows(example: Path):
    result = run_cli("show", "INC_001", "--format", "json", "--as-of", "2026-11-27", cwd=example)
    assert result.code == 0, result.err
    shown = result.json()
    assert shown["kind"] == "incident" and shown["id"] == "INC_001"
    assert shown["severity"] == "SEV-2" and shown["computed_severity"] == "SEV-2"
    assert shown["sla"]["status"] == "met" and shown["sla"]["clock"] == "business"
    assert shown["postmortem"]["path"] == "incidents/INC_001/postmortem.md"
    assert [a["id"] for a in shown["postmortem"]["action_items"]] == ["A1", "A2", "A3", "A4"]
    assert shown["handoff"] == "incidents/INC_001/handoff.yaml"
    assert [t["id"] for t in shown["tests"]] == ["regression_INC_001"]
    assert shown["escalations"][0]["team"] == "Safety team"
    text = run_cli("show", "INC_001", "--as-of", "2026-11-27", cwd=example)
    assert text.out.startswith("INC_001: Phishing template generated after gradual authority reframing\n")
    assert "  postmortem: incidents/INC_001/postmortem.md (full review)" in text.out


def test_show_a_test_with_its_decisions_and_links(example: Path):
    shown = run_cli("show", "regression_INC_004", "--format", "json", "--as-of", "2026-11-27", cwd=example).json()
    assert shown["kind"] == "test" and shown["state"] == "RETIRED"
    assert shown["decisions"][0]["decision"] == "CREATE"
    assert shown["decisions"][-1]["to_state"] == "RETIRED"
    assert any("RETIRE_REGRESSION_regression_INC_004" in p for p in shown["links"]["audit"])
    assert shown["incident"]["id"] == "INC_004"


def test_show_an_unknown_id_says_what_is_close(example: Path):
    result = run_cli("show", "INC_0001", cwd=example)
    assert result.code == 2 and "no incident or regression test 'INC_0001'" in result.err
    assert "did you mean INC_001?" in result.err


HELP_OF_EVERY_COMMAND = """
import click
from incidentops.cli import cli

def walk(group, path):
    ctx = click.Context(group, info_name=" ".join(["incidentops", *path]))
    yield path, group.get_help(ctx)
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if isinstance(sub, click.Group):
            yield from walk(sub, [*path, name])
        else:
            yield [*path, name], sub.get_help(click.Context(sub, info_name=" ".join(["incidentops", *path, name])))

for path, text in walk(cli, []):
    print("@@command " + " ".join(path))
    print(text)
"""


def test_every_command_s_help_ends_with_an_example():
    """Every command's --help, as click renders it (one process for all of them)."""
    proc = subprocess.run([sys.executable, "-c", HELP_OF_EVERY_COMMAND], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    helps = {chunk.split("\n", 1)[0].strip(): chunk.split("\n", 1)[1] for chunk in proc.stdout.split("@@command")[1:]}
    assert {"status", "show", "list", "renumber", "schemas sync", "init", "lifecycle retire"} <= set(helps)
    assert len(helps) > 30
    for path, text in helps.items():
        tail = text.rstrip().splitlines()
        assert tail[-2].strip() == "Example:" and tail[-1].strip().startswith("incidentops"), (path, tail[-3:])
    # and `--help` itself prints the same
    assert run_cli("status", "--help").out.rstrip().endswith(helps["status"].rstrip().splitlines()[-1].rstrip())


def _on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal, as in an interactive shell."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "incidentops", *args], cwd=REPO, stdout=child,
                            stderr=subprocess.DEVNULL, env={k: v for k, v in env.items() if k != "NO_COLOR"}
                            | ({"NO_COLOR": env["NO_COLOR"]} if "NO_COLOR" in env else {}))
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color():
    base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _on_a_terminal("status", "--as-of", "2027-02-01", env=base)
    assert ANSI in coloured and "Overdue action items (1)" in coloured
    plain = _on_a_terminal("status", "--as-of", "2027-02-01", env={**base, "NO_COLOR": "1"})
    assert ANSI not in plain and "Overdue action items (1)" in plain
    piped = run_cli("status", "--as-of", "2027-02-01", env={"NO_COLOR": ""})
    assert ANSI not in piped.out


def test_shell_completion_as_documented():
    readme = (REPO / "README.md").read_text()
    assert 'eval "$(_INCIDENTOPS_COMPLETE=bash_source incidentops)"' in readme
    script = subprocess.run([sys.executable, "-m", "incidentops"], env={**os.environ, "_INCIDENTOPS_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=60)
    assert "complete " in script.stdout and "_incidentops_completion" in script.stdout
    words = subprocess.run([sys.executable, "-m", "incidentops"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "_INCIDENTOPS_COMPLETE": "bash_complete", "COMP_WORDS": "incidentops st",
                                "COMP_CWORD": "1"})
    assert "plain,status" in words.stdout.split()


def test_list_gives_every_id_and_lifecycle_hints_point_at_it(example: Path):
    rows = run_cli("list", "--format", "json", cwd=example).json()
    ids = {row["id"] for row in rows}
    assert {"INC_001", "INC_009", "regression_INC_001", "regression_INC_004"} <= ids  # retired tests too
    tests = run_cli("list", "tests", cwd=example)
    assert tests.code == 0 and all(line.startswith("regression_") for line in tests.out.splitlines())
    unknown = run_cli("lifecycle", "keep", "no_such_test_at_all", "--reason", "Still needed", cwd=example)
    assert unknown.code == 2 and "incidentops list tests" in unknown.err


def test_a_whole_severity_weight_is_shown_as_the_record_writes_it(example: Path):
    assert "severity weight: 0.8\n" in run_cli("show", "regression_INC_001", "--as-of", "2026-11-27", cwd=example).out
    path = example / "regressions" / "regression_INC_001.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("severity_weight: 0.8", "severity_weight: 1"),
                    encoding="utf-8")
    shown = run_cli("show", "regression_INC_001", "--format", "json", "--as-of", "2026-11-27", cwd=example).json()
    assert shown["severity_weight"] == 1 and isinstance(shown["severity_weight"], int)
    assert "severity weight: 1\n" in run_cli("show", "regression_INC_001", "--as-of", "2026-11-27", cwd=example).out
