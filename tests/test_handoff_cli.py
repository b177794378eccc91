"""`incidentops handoff` end to end: the handoff and its regression test, consistent and checked."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import run_cli

AS_OF = "2026-11-27T10:00:00Z"
HANDED_FIELDS = ("test_id", "scenario", "expected_block_turn", "severity_weight")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_json(root: Path, *paths: str) -> tuple[int, list[dict]]:
    result = run_cli("check", "--as-of", AS_OF, "--format", "json", *paths, cwd=root)
    assert result.code in (0, 1), result.err
    return result.code, result.json()


def handoff(root: Path, incident_id: str, *extra: str):
    return run_cli("handoff", incident_id, "--scenario", "x", "--expected-block-turn", "2",
                   "--as-of", AS_OF, *extra, cwd=root)


def assert_consistent_pair(root: Path, incident_id: str, weight: float) -> None:
    handoff_path = root / "incidents" / incident_id / "handoff.yaml"
    test_path = root / "regressions" / f"regression_{incident_id}.yaml"
    handed, test = load(handoff_path), load(test_path)
    incident = load(root / "incidents" / incident_id / "incident.yaml")
    assert handed["incident_id"] == test["incident_id"] == incident_id
    assert handed["severity"] == incident["severity"]
    for field in HANDED_FIELDS:
        assert handed["regression_test"][field] == test[field], field
    assert test["test_id"] == f"regression_{incident_id}"
    assert test["scenario"] == "x"
    assert test["expected_block_turn"] == 2
    assert test["severity_weight"] == weight
    assert test["suite"] == "model-safety-regression-suite"
    assert test["state"] == "ACTIVE"
    assert len(test["turns"]) >= 2
    assert handoff_path.read_text().startswith("# yaml-language-server: $schema=../../schemas/handoff.schema.json")
    assert test_path.read_text().startswith("# yaml-language-server: $schema=../schemas/regression.schema.json")


def test_handoff_for_an_incident_without_a_test(example: Path):
    assert not (example / "regressions" / "regression_INC_009.yaml").exists()
    result = handoff(example, "INC_009")
    assert result.code == 0, result.err
    assert "created incidents/INC_009/handoff.yaml" in result.out
    assert "created regressions/regression_INC_009.yaml" in result.out
    assert_consistent_pair(example, "INC_009", weight=0.8)  # SEV-2 default from the policy

    # the new ACTIVE test still replays the scaffold's placeholder turns: an error until they are written
    code, found = check_json(example)
    assert code == 1
    placeholders = [(f["path"], f["line"]) for f in found if f["rule"] == "regression.placeholder-turn"]
    assert placeholders == [("regressions/regression_INC_009.yaml", line) for line in (11, 12, 13)]
    write_turns(example, "INC_009")
    code, found = check_json(example)
    assert code == 0, found
    new = [f for f in found if f["path"] in ("incidents/INC_009/handoff.yaml", "regressions/regression_INC_009.yaml")]
    assert new, "the scaffold's other TODOs are flagged until filled in"
    assert {f["rule"] for f in new} == {"record.todo"}
    assert {f["level"] for f in new} == {"warning"}
    assert {f["message"] for f in new} == {"unfinished: `notes[0]` still holds a TODO",
                                           "unfinished: `action_items[0]` still holds a TODO"}


def write_turns(root: Path, incident_id: str, test_id: str | None = None) -> None:
    test = root / "regressions" / f"{test_id or 'regression_' + incident_id}.yaml"
    text = test.read_text(encoding="utf-8")
    for number in range(1, 10):
        text = text.replace(f'"TODO: user turn {number} of the attack"', f"Attack turn {number}, as in the transcript")
    test.write_text(text, encoding="utf-8")


def test_running_handoff_twice_refuses_and_changes_nothing(example: Path):
    assert handoff(example, "INC_009").code == 0
    before = {p: p.read_bytes() for p in (example / "incidents" / "INC_009").iterdir()}
    test_before = (example / "regressions" / "regression_INC_009.yaml").read_bytes()

    again = handoff(example, "INC_009")
    assert again.code == 2
    assert again.err.startswith("incidentops: error: incidents/INC_009/handoff.yaml already exists")
    assert "--test-id regression_INC_009_<name>" in again.err
    assert "hint:" in again.err
    assert "Traceback" not in again.err
    assert again.out == ""
    assert {p: p.read_bytes() for p in (example / "incidents" / "INC_009").iterdir()} == before
    assert (example / "regressions" / "regression_INC_009.yaml").read_bytes() == test_before


def test_handoff_refuses_when_the_incident_already_has_a_handoff(example: Path):
    result = handoff(example, "INC_001")
    assert result.code == 2
    assert "incidents/INC_001/handoff.yaml already exists" in result.err
    assert "Traceback" not in result.err


def test_handoff_carries_the_postmortem_into_notes(example: Path):
    result = handoff(example, "INC_002")
    assert result.code == 0, result.err
    assert_consistent_pair(example, "INC_002", weight=0.5)  # INC_002 is SEV-3
    handed = load(example / "incidents" / "INC_002" / "handoff.yaml")
    assert handed["notes"] and not any("TODO" in n for n in handed["notes"])
    write_turns(example, "INC_002")
    code, found = check_json(example, "incidents/INC_002", "regressions/regression_INC_002.yaml")
    assert code == 0
    assert {f["rule"] for f in found} <= {"record.todo"}


def _fill(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def test_handoff_for_a_new_incident(example: Path):
    created = run_cli("new", "incident", "--as-of", "2026-11-27T09:00:00Z", cwd=example)
    assert created.code == 0, created.err
    incident = example / "incidents" / "INC_010" / "incident.yaml"
    _fill(incident, {
        '"TODO: one line saying what happened, not who did it"': "Refusal rate eroded for encoded requests",
        "severity: SEV-0": "severity: SEV-3",
        "type: mass_harmful_output   # TODO: the incident type, one of: mass_harmful_output, pii_exposure,"
        " policy_violation_isolated, policy_erosion, false_positive_spike": "type: policy_erosion",
        "attack_vector: unknown           # TODO: a short slug of the technique, such as multi_turn_reframing":
            "attack_vector: encoded_request",
        '"TODO: the reporter\'s role, never a name"': "Safety evaluation analyst",
        "escalations: []": 'escalations:\n  - team: Safety team\n    at: "2026-11-27T09:30:00Z"',
        "  harm:  ": "  harm: potential",
        "  scope:  ": "  scope: single_user",
        "  regulatory:  ": "  regulatory: false",
        "  reputational_risk:  ": "  reputational_risk: normal",
        "  exploitable_at_scale:  ": "  exploitable_at_scale: false",
        "  TODO: what happened, its impact and how it was detected, in terms of systems\n"
        "  and processes (blameless: name roles, never people).":
            "  The weekly evaluation showed fewer refusals for base64-encoded requests.",
    })
    code, found = check_json(example, "incidents/INC_010")
    assert code == 0 and found == []

    result = handoff(example, "INC_010")
    assert result.code == 0, result.err
    assert_consistent_pair(example, "INC_010", weight=0.5)  # SEV-3
    write_turns(example, "INC_010")
    code, found = check_json(example)
    assert code == 0
    new = [f for f in found if "INC_010" in f["path"]]
    assert {f["rule"] for f in new} == {"record.todo"}


def test_check_catches_a_test_edited_after_the_handoff(example: Path):
    assert handoff(example, "INC_009").code == 0
    test = example / "regressions" / "regression_INC_009.yaml"
    _fill(test, {"expected_block_turn: 2": "expected_block_turn: 1"})
    code, found = check_json(example, "incidents/INC_009/handoff.yaml")
    assert code == 1
    mismatches = [(f["line"], f["hint"]) for f in found if f["rule"] == "handoff.mismatch"]
    assert mismatches == [(9, "regressions/regression_INC_009.yaml has `expected_block_turn: 1`; "
                              "make the handoff and the test agree")]


def test_the_new_test_joins_the_gate(example: Path, tmp_path: Path):
    """A handed-off test is ACTIVE at once: results that predate it leave it missing, so BLOCK."""
    exported = run_cli("suite", "export", "--format", "jsonl", cwd=example)
    ids = [yaml.safe_load(line)["test_id"] for line in exported.out.splitlines()]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(f'{{"test_id": "{i}", "outcome": "pass"}}\n' for i in ids))
    assert run_cli("gate", "--results", str(results), cwd=example).code == 0

    assert handoff(example, "INC_009").code == 0
    gate = run_cli("gate", "--results", str(results), "--format", "json", cwd=example)
    assert gate.code == 1
    assert gate.json()["missing"] == ["regression_INC_009"]
