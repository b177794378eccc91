"""`incidentops assess`: the checklist from options, from a terminal, and written to an incident."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run_cli

ANSWERS = ["--harm", "occurred", "--scope", "many_users", "--no-regulatory",
           "--reputational-risk", "high", "--no-exploitable-at-scale"]


def test_options_give_severity_rules_escalation_and_sla(example: Path) -> None:
    result = run_cli("assess", *ANSWERS, "--type", "pii_exposure", cwd=example)
    assert result.code == 0, result.err
    out = result.out
    assert "Computed severity: SEV-0 (Critical" in out
    assert "harm occurred: start at SEV-1" in out
    assert "scope many_users: 1 level more severe -> SEV-0" in out
    assert "Advisory: High reputational risk: consider SEV-0" in out
    assert "Escalation path: Security -> Legal -> All hands" in out
    assert "Response SLA: 15 minutes from detection, all-hands" in out


def test_json_output(example: Path) -> None:
    result = run_cli("assess", "--harm", "imminent", "--scope", "single_user", "--regulatory",
                     "--reputational-risk", "normal", "--no-exploitable-at-scale",
                     "--type", "policy_violation_isolated", "--format", "json", cwd=example)
    assert result.code == 0, result.err
    data = result.json()
    assert data["severity"] == "SEV-1"
    assert data["escalation_path"] == ["Safety team", "Legal", "On-call"]
    assert data["response_sla_minutes"] == 60
    assert data["clock"] == "wall"
    assert data["advisories"] == []
    assert any("regulatory implications: raised to the minimum SEV-1" in r for r in data["reasons"])
    assert data["answers"] == {"harm": "imminent", "scope": "single_user", "regulatory": True,
                               "reputational_risk": "normal", "exploitable_at_scale": False}
    assert "incident" not in data


def test_business_hours_sla_is_named(example: Path) -> None:
    result = run_cli("assess", "--harm", "imminent", "--scope", "single_user", "--no-regulatory",
                     "--reputational-risk", "normal", "--no-exploitable-at-scale", cwd=example)
    assert result.code == 0, result.err
    assert "Computed severity: SEV-2" in result.out
    assert "Response SLA: 240 business minutes from detection, business hours" in result.out
    assert "give --type to add the type's path" in result.out


def test_missing_answers_without_terminal_is_a_usage_error(example: Path) -> None:
    result = run_cli("assess", "--harm", "occurred", "--no-regulatory", cwd=example, input="")
    assert result.code == 2
    assert "missing answer(s): --scope, --reputational-risk, --exploitable-at-scale" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


def test_unknown_type_is_a_clean_error(example: Path) -> None:
    result = run_cli("assess", *ANSWERS, "--type", "pii_exposre", cwd=example)
    assert result.code == 2
    assert "unknown incident type 'pii_exposre'" in result.err
    assert "did you mean 'pii_exposure'?" in result.err


def test_write_records_answers_and_keeps_comments(example: Path) -> None:
    inc = example / "incidents/INC_001/incident.yaml"
    before = inc.read_text()
    assert "# the attack needed five hand-adapted turns" in before
    result = run_cli("assess", "--harm", "occurred", "--scope", "single_user", "--no-regulatory",
                     "--reputational-risk", "normal", "--exploitable-at-scale", "--write", "INC_001",
                     "--format", "json", cwd=example)
    assert result.code == 0, result.err
    data = result.json()
    assert data["severity"] == "SEV-0"
    assert data["escalation_path"] == ["Safety team", "All hands"]  # the incident's type
    assert data["incident"] == {"id": "INC_001", "path": "incidents/INC_001/incident.yaml",
                                "declared_severity": "SEV-2", "comparison": "under-declared",
                                "severity_set_from": None}
    after = inc.read_text()
    assert "  harm: occurred                # a usable template reached one user" in after
    assert "  exploitable_at_scale: true    # the attack needed five hand-adapted turns" in after
    assert after.splitlines()[0] == before.splitlines()[0]  # the schema modeline
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert [b.split("#")[0].strip() for _, b in changed] == ["harm: occurred", "exploitable_at_scale: true"]
    hits = [f for f in run_cli("check", "--format", "json", cwd=example).json()
            if f["rule"] == "severity.under-declared"]
    assert [(f["path"], f["line"]) for f in hits] == [("incidents/INC_001/incident.yaml", 5)]


def test_write_shows_declared_against_computed(example: Path) -> None:
    result = run_cli("assess", "--harm", "imminent", "--scope", "single_user", "--no-regulatory",
                     "--reputational-risk", "normal", "--no-exploitable-at-scale", "--write", "INC_001",
                     cwd=example)
    assert result.code == 0, result.err
    assert "Recorded the answers in incidents/INC_001/incident.yaml (assessment)." in result.out
    assert "Declared severity SEV-2 matches the computed severity." in result.out


def test_write_adds_a_missing_assessment_before_escalations(example: Path) -> None:
    inc = example / "incidents/INC_001/incident.yaml"
    lines = inc.read_text().splitlines()
    start = lines.index("assessment:")
    del lines[start:start + 6]
    inc.write_text("\n".join(lines) + "\n")
    result = run_cli("assess", *ANSWERS, "--write", "INC_001", cwd=example)
    assert result.code == 0, result.err
    text = inc.read_text().splitlines()
    assert text[start:start + 7] == [
        "assessment:", "  harm: occurred", "  scope: many_users", "  regulatory: false",
        "  reputational_risk: high", "  exploitable_at_scale: false", "escalations:",
    ]


def test_write_unknown_incident_and_conflicting_type(example: Path) -> None:
    result = run_cli("assess", *ANSWERS, "--write", "INC_0001", cwd=example)
    assert result.code == 2
    assert "--write INC_0001" in result.err and "did you mean INC_001?" in result.err
    result = run_cli("assess", *ANSWERS, "--write", "INC_001", "--type", "pii_exposure", cwd=example)
    assert result.code == 2
    assert "differs from INC_001's type policy_violation_isolated" in result.err


def test_interactive_terminal_asks_the_missing_questions(example: Path) -> None:
    """A real pseudo-terminal as stdin: the five questions and the type are asked on stderr."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidentops", "assess", "--format", "json"],
        cwd=example, env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    os.close(terminal)
    try:
        # harm, scope (a typo first, then an answer that could be two: asked again), regulatory,
        # reputational risk, exploitable, type: any case, unambiguous prefixes
        os.write(controller, b"Occ\nsingel\n\nsingle\nYES\nN\nno\np\npii\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
    assert proc.returncode == 0, err
    for question in ("1. Harm occurred?", "2. Scope of impact?", "3. Regulatory implications?",
                     "4. Reputational risk?", "5. Exploitable at scale?", "Incident type"):
        assert question in err
    assert "occurred: start at SEV-1" in err
    assert "'singel' is not one of" in err
    assert "'p' could be pii_exposure or policy_violation_isolated or policy_erosion" in err
    data = __import__("json").loads(out)
    assert data["severity"] == "SEV-1"
    assert data["type"] == "pii_exposure"
    assert data["escalation_path"] == ["Security", "Legal", "On-call"]


def test_outside_a_registry_uses_the_built_in_policy(tmp_path: Path) -> None:
    result = run_cli("assess", *ANSWERS, "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "using the built-in policy" in result.err
    assert result.json()["severity"] == "SEV-0"


def test_help_lists_the_checklist(example: Path) -> None:
    result = run_cli("assess", "--help", cwd=REPO)
    assert result.code == 0
    assert "--reputational-risk [high|normal|unknown]" in result.out


def test_unknown_answers_count_as_the_more_severe_option(example: Path) -> None:
    result = run_cli("assess", "--harm", "unknown", "--scope", "single_user", "--regulatory", "unknown",
                     "--reputational-risk", "normal", "--no-exploitable-at-scale", "--format", "json", cwd=example)
    assert result.code == 0, result.err
    data = result.json()
    assert data["severity"] == "SEV-1"  # harm counted as occurred, regulatory as yes
    assert data["answers"]["harm"] == "unknown" and data["answers"]["regulatory"] == "unknown"
    assert "harm unknown: counted as occurred (if unsure, the more severe answer)" in data["reasons"]
    assert "Legal" in data["escalation_path"]


def test_write_can_set_the_declared_severity(example: Path) -> None:
    inc = example / "incidents/INC_001/incident.yaml"
    result = run_cli("assess", "--harm", "occurred", "--scope", "single_user", "--no-regulatory",
                     "--reputational-risk", "normal", "--exploitable-at-scale", "--write", "INC_001",
                     "--set-severity", cwd=example)
    assert result.code == 0, result.err
    assert "Recorded the severity: SEV-0 (was SEV-2)." in result.out
    assert "\nseverity: SEV-0" in inc.read_text()
    hits = [f["rule"] for f in run_cli("check", "--format", "json", "incidents/INC_001", cwd=example).json()]
    assert "severity.under-declared" not in hits
    # without --set-severity (and without a terminal) the declared severity is only compared
    kept = run_cli("assess", "--harm", "potential", "--scope", "internal_only", "--no-regulatory",
                   "--reputational-risk", "normal", "--no-exploitable-at-scale", "--write", "INC_001", cwd=example)
    assert kept.code == 0 and "\nseverity: SEV-0" in inc.read_text()
    assert "more severe than the computed SEV-3 (allowed)" in kept.out
    alone = run_cli("assess", *ANSWERS, "--set-severity", cwd=example)
    assert alone.code == 2 and "go with --write" in alone.err


def test_interactive_write_offers_to_set_the_severity(example: Path) -> None:
    """In a terminal, --write asks before recording a computed severity that differs from the declared one."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidentops", "assess", "--write", "INC_001"],
        cwd=example, env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    os.close(terminal)
    try:
        # every answer kept as recorded (Enter), except harm: Occurred; then yes to the offer
        os.write(controller, b"Occurred\n\n\n\n\ny\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
    assert proc.returncode == 0, err
    assert "Record the computed SEV-1 as INC_001's severity (declared: SEV-2)?" in err
    assert "Recorded the severity: SEV-1 (was SEV-2)." in out
    assert "\nseverity: SEV-1" in (example / "incidents/INC_001/incident.yaml").read_text()
