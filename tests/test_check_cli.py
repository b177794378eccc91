"""`incidentops check` end to end: exit codes, formats, and one negative example per rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, run_cli


def findings(root: Path, *paths: str):
    result = run_cli("check", "--format", "json", *paths, cwd=root)
    assert result.code in (0, 1), result.err
    return result.json()


def located(items, rule):
    return [(f["path"], f["line"], f["col"]) for f in items if f["rule"] == rule]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_example_registry_passes(cli):
    result = cli("check", "--format", "json", cwd=REPO)
    assert result.code == 0, result.out + result.err
    # the example keeps one deliberate SLA breach (INC_007) on record, as a warning
    assert [(f["rule"], f["path"]) for f in result.json()] == [("sla.breached", "incidents/INC_007/incident.yaml")]


def test_enum_error_text_format_and_exit_code(example):
    inc = example / "incidents/INC_001/incident.yaml"
    replace(inc, "severity: SEV-2", "severity: SEV-5")
    result = run_cli("check", cwd=example)
    assert result.code == 1
    line = line_of(inc, "severity: SEV-5")
    assert (f"incidents/INC_001/incident.yaml:{line}:11: error [schema.enum] "
            "severity: 'SEV-5' is not one of SEV-0, SEV-1, SEV-2, SEV-3") in result.out


def test_unknown_key_gets_did_you_mean(example):
    inc = example / "incidents/INC_001/incident.yaml"
    replace(inc, "severity: SEV-2", "severity: SEV-2\nsevrity: SEV-2")
    items = findings(example)
    hit = [f for f in items if f["rule"] == "schema.unknown-key"]
    assert hit and hit[0]["line"] == line_of(inc, "sevrity:") and hit[0]["col"] == 1
    assert "did you mean 'severity'?" in hit[0]["hint"]


def test_impossible_date_is_a_format_error(example):
    inc = example / "incidents/INC_001/incident.yaml"
    text = inc.read_text()
    stamp = re.search(r'detected_at: "([^"]+)"', text).group(1)
    replace(inc, stamp, "2026-13-45T10:00:00Z")
    assert located(findings(example), "schema.format") == [
        ("incidents/INC_001/incident.yaml", line_of(inc, "detected_at"), 14)]


def test_missing_required_field(example):
    inc = example / "incidents/INC_001/incident.yaml"
    lines = [ln for ln in inc.read_text().splitlines(keepends=True) if not ln.startswith("title:")]
    inc.write_text("".join(lines))
    hits = [f for f in findings(example) if f["rule"] == "schema.required"]
    assert hits and "title" in hits[0]["message"] and hits[0]["path"].endswith("INC_001/incident.yaml")


def test_id_must_match_folder(example):
    inc = example / "incidents/INC_001/incident.yaml"
    replace(inc, "id: INC_001", "id: INC_901")
    assert located(findings(example), "id.filename") == [("incidents/INC_001/incident.yaml", line_of(inc, "id: INC_901"), 5)]


def test_unknown_model_version(example):
    inc = example / "incidents/INC_001/incident.yaml"
    version = re.search(r"model_version: (\S+)", inc.read_text()).group(1)
    replace(inc, f"model_version: {version}", "model_version: aurora-9.9")
    hits = [f for f in findings(example) if f["rule"] == "ref.model"]
    assert [(h["path"], h["line"]) for h in hits] == [("incidents/INC_001/incident.yaml", line_of(inc, "aurora-9.9"))]


def test_dangling_incident_reference_from_a_test(example):
    test = example / "regressions/regression_INC_001.yaml"
    replace(test, "incident_id: INC_001", "incident_id: INC_0001")
    hits = [f for f in findings(example, "regressions/regression_INC_001.yaml") if f["rule"] == "ref.incident"]
    assert [(h["line"], h["hint"]) for h in hits] == [(line_of(test, "INC_0001"), "did you mean 'INC_001'?")]


def test_handoff_points_at_missing_test(example):
    (example / "regressions/regression_INC_001.yaml").rename(example / "regressions/regression_INC_777.yaml")
    hits = located(findings(example), "ref.test")
    handoff = example / "incidents/INC_001/handoff.yaml"
    assert ("incidents/INC_001/handoff.yaml", line_of(handoff, "test_id:"), 12) in hits


def test_retired_test_outside_archive_and_without_audit(example):
    archived = sorted((example / "regressions/archive").glob("*.yaml"))[0]
    moved = example / "regressions" / archived.name
    archived.rename(moved)
    for entry in (example / "audit").glob("*.yaml"):
        entry.unlink()
    items = findings(example)
    rel = f"regressions/{archived.name}"
    state_line = line_of(moved, "state: RETIRED")
    assert (rel, state_line, 8) in located(items, "archive.location")
    assert (rel, state_line, 8) in located(items, "archive.audit")


def test_active_test_in_archive(example):
    test = example / "regressions/regression_INC_001.yaml"
    test.rename(example / "regressions/archive/regression_INC_001.yaml")
    hits = located(findings(example), "archive.location")
    assert hits and hits[0][0] == "regressions/archive/regression_INC_001.yaml"


def test_duplicate_test_id_across_archive(example):
    archived = sorted((example / "regressions/archive").glob("*.yaml"))[0]
    (example / "regressions" / archived.name).write_text(archived.read_text())
    assert any(f["rule"] == "id.duplicate" for f in findings(example))


def test_paths_limit_the_report_but_resolve_against_the_registry(example):
    replace(example / "incidents/INC_001/incident.yaml", "severity: SEV-2", "severity: SEV-5")
    only_test = findings(example, "regressions/regression_INC_001.yaml")
    assert only_test == []
    assert findings(example, "incidents/INC_001")


@pytest.mark.parametrize(
    ("content", "rule", "line"),
    [
        (b"a: 1\na: 2\n", "yaml.duplicate-key", 2),
        (b"x: &a 1\ny: *a\n", "yaml.anchor", 1),
        (b"\xff\xfe", "yaml.encoding", 1),
        (b"", "yaml.empty", 1),
        (b"a: 1\n---\nb: 1\n", "yaml.multi-document", 2),
    ],
)
def test_broken_files_are_findings_not_tracebacks(example, content, rule, line):
    (example / "regressions/regression_INC_001.yaml").write_bytes(content)
    result = run_cli("check", "--format", "json", "regressions/regression_INC_001.yaml", cwd=example)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert (rule, line) in [(f["rule"], f["line"]) for f in result.json()]


def test_github_annotations(example):
    replace(example / "incidents/INC_001/incident.yaml", "severity: SEV-2", "severity: SEV-5")
    result = run_cli("check", "--format", "github", cwd=example)
    assert result.code == 1
    assert re.search(r"^::error file=incidents/INC_001/incident\.yaml,line=\d+,col=11,title=schema\.enum::", result.out, re.M)


def test_not_a_registry_is_a_usage_error(tmp_path):
    result = run_cli("check", cwd=tmp_path)
    assert result.code == 2
    assert "incidentops init" in result.err and "Traceback" not in result.err


def test_missing_path_is_a_usage_error(example):
    result = run_cli("check", "incidents/INC_404/incident.yaml", cwd=example)
    assert result.code == 2 and "no such file" in result.err
