"""Records that cannot contradict themselves, and a severity that errs high: each rule on a
negative example (rule id, line) and the example registry as the positive one.

Every case edits one file of a private copy of the shipped example registry and runs the
real `incidentops check`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli

AS_OF = "2026-12-01T00:00:00Z"


def check(root: Path, *paths: str) -> tuple[int, list[dict]]:
    result = run_cli("check", "--as-of", AS_OF, "--format", "json", *paths, cwd=root)
    assert result.code in (0, 1), result.err
    return result.code, result.json()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def hits(findings: list[dict], rule: str) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["level"]) for f in findings if f["rule"] == rule]


def test_the_example_registry_is_consistent(example: Path) -> None:
    code, found = check(example)
    assert code == 0, [f for f in found if f["level"] == "error"]
    families = ("incident.", "models.", "regression.", "severity.unanswered", "postmortem.published",
                "postmortem.due", "text.")
    assert not [f for f in found if f["rule"].startswith(families)]


INC = "incidents/INC_001/incident.yaml"
PM = "incidents/INC_001/postmortem.md"

# (file, old text, new text, rule, line of the finding)
CASES = [
    pytest.param(INC, 'first_response_at: "2026-03-10T15:10:00Z"', 'first_response_at: "2026-03-10T12:10:00Z"',
                 "incident.time-order", 9, id="first-response-before-detection"),
    pytest.param(INC, 'resolved_at: "2026-03-12T11:00:00Z"', 'resolved_at: "2026-03-07T11:00:00Z"',
                 "incident.time-order", 10, id="resolved-before-detection"),
    pytest.param(INC, 'resolved_at: "2026-03-12T11:00:00Z"', "resolved_at: null",
                 "incident.status", 6, id="resolved-without-resolved-at"),
    pytest.param(INC, "status: resolved", "status: open", "incident.status", 10, id="open-with-resolved-at"),
    pytest.param(INC, '  - at: "2026-03-11T10:00:00Z"', '  - at: "2026-03-10T10:00:00Z"',
                 "incident.timeline-order", 45, id="timeline-out-of-order"),
    pytest.param(INC, "    after_resolution: true\n", "", "incident.timeline-after-resolution", 49,
                 id="event-after-resolution-unsaid"),
    pytest.param(PM, 'published_at: "2026-03-14T09:00:00Z"', 'published_at: "2026-03-12T09:00:00Z"',
                 "postmortem.published-before-meeting", 7, id="published-before-meeting"),
    pytest.param(PM, 'due: "2026-03-20"', 'due: "2026-02-20"', "postmortem.due-before-incident", 28,
                 id="action-due-before-incident"),
    pytest.param(INC, "  harm: imminent", "  harm: null", "severity.unanswered", 15, id="unanswered-question"),
]


@pytest.mark.parametrize(("rel", "old", "new", "rule", "line"), CASES)
def test_negative_example(example: Path, rel: str, old: str, new: str, rule: str, line: int) -> None:
    edit(example / rel, old, new)
    code, found = check(example, rel)
    assert code == 1
    assert hits(found, rule) == [(rel, line, "error")], [f for f in found if f["level"] == "error"]
    assert all(f["hint"] for f in found if f["rule"] == rule)


def test_a_follow_up_after_resolution_that_says_so_passes(example: Path) -> None:
    # the example's INC_001 and INC_006 list follow-ups with `after_resolution: true`
    assert "after_resolution: true" in (example / INC).read_text()
    _code, found = check(example, INC)
    assert hits(found, "incident.timeline-after-resolution") == []


def test_sla_skips_an_incident_whose_times_contradict(example: Path) -> None:
    edit(example / INC, 'resolved_at: "2026-03-12T11:00:00Z"', 'resolved_at: "2026-03-07T11:00:00Z"')
    result = run_cli("sla", "--as-of", AS_OF, "--format", "json", cwd=example)
    assert result.code == 0, result.err
    assert "skipped incidents/INC_001/incident.yaml: INC_001: resolved_at is before detected_at" in result.err
    assert result.json()["mttr_minutes"] > 0


def test_unknown_answers_count_high_and_pass_when_declared_high(example: Path) -> None:
    edit(example / INC, "  harm: imminent", "  harm: unknown")
    _code, found = check(example, INC)
    assert hits(found, "severity.unanswered") == []
    assert hits(found, "severity.under-declared") == [(INC, 5, "error")]  # unknown harm counts as occurred
    edit(example / INC, "severity: SEV-2", "severity: SEV-1")
    _code, found = check(example, INC)
    assert hits(found, "severity.under-declared") == []


def test_lineage_cycle(example: Path) -> None:
    models = example / "models.yaml"
    edit(models, "    predecessor: null\n", "    predecessor: aurora-3.0\n")
    code, found = check(example, "models.yaml")
    assert code == 1
    cycles = [f for f in found if f["rule"] == "models.lineage-cycle"]
    assert [(f["line"], f["level"]) for f in cycles] == [(21, "error")]
    assert cycles[0]["message"].endswith("aurora-1.0 -> aurora-3.0 -> aurora-2.0 -> aurora-1.1 -> aurora-1.0")


def test_new_incident_errs_high_until_the_checklist_is_answered(example: Path) -> None:
    created = run_cli("new", "incident", "--as-of", AS_OF, cwd=example)
    assert created.code == 0, created.err
    rel = "incidents/INC_010/incident.yaml"
    text = (example / rel).read_text()
    assert "\nseverity: SEV-0" in text and "harm: potential" not in text
    escalated = text.replace(
        "escalations: []", 'escalations:\n  - team: Safety team\n    at: "2026-12-01T00:10:00Z"')
    (example / rel).write_text(escalated)
    code, found = check(example, rel)
    assert code == 1  # an untouched scaffold plus one escalation never passes
    assert [line for _, line, _ in hits(found, "severity.unanswered")] == [23, 24, 25, 26, 27]
    todo = {f["message"] for f in found if f["rule"] == "record.todo"}
    assert "unfinished: `title` still holds a TODO" in todo and "unfinished: `summary` still holds a TODO" in todo
    assessed = run_cli("assess", "--write", "INC_010", "--set-severity", "--harm", "potential", "--scope",
                       "internal_only", "--no-regulatory", "--reputational-risk", "normal",
                       "--no-exploitable-at-scale", cwd=example)
    assert assessed.code == 0, assessed.err
    assert "Recorded the severity: SEV-3 (was SEV-0)." in assessed.out
    code, found = check(example, rel)
    assert hits(found, "severity.unanswered") == [] and hits(found, "severity.under-declared") == []


def test_placeholder_turns_of_a_running_test(example: Path) -> None:
    test = example / "regressions/regression_INC_001.yaml"
    text = test.read_text()
    first_turn = next(line for line in text.splitlines() if line.startswith("  - ") and "turns" not in line)
    number = text.splitlines().index(first_turn) + 1
    edit(test, first_turn, '  - "TODO: user turn 1 of the attack"')
    code, found = check(example, "regressions/regression_INC_001.yaml")
    assert code == 1
    assert hits(found, "regression.placeholder-turn") == [("regressions/regression_INC_001.yaml", number, "error")]
    assert hits(found, "record.todo") == []  # reported once, as the error
    exported = run_cli("suite", "export", "--format", "jsonl", "--out", "suite.jsonl", cwd=example)
    assert exported.code == 2
    assert "regression_INC_001: turn 1 is a placeholder" in exported.err
    assert not (example / "suite.jsonl").exists()
    # a DEPRECATED test is not replayed to block anything: a TODO there is only unfinished
    edit(test, "state: ACTIVE", "state: DEPRECATED")
    code, found = check(example, "regressions/regression_INC_001.yaml")
    assert hits(found, "regression.placeholder-turn") == []
    assert [f["message"] for f in found if f["rule"] == "record.todo"] == ["unfinished: `turns[0]` still holds a TODO"]


def test_rules_skip_a_value_that_failed_the_schema(example: Path) -> None:
    """severity: SEV-5 is one schema finding; no rule tells the handoff to copy it or the postmortem to change."""
    edit(example / "incidents/INC_002/incident.yaml", "severity: SEV-3", "severity: SEV-5")
    edit(example / "incidents/INC_005/incident.yaml", "severity: SEV-2", "severity: SEV-5")
    code, found = check(example)
    assert code == 1
    errors = [(f["path"], f["line"], f["rule"]) for f in found if f["level"] == "error"]
    assert errors == [("incidents/INC_002/incident.yaml", 5, "schema.enum"),
                      ("incidents/INC_005/incident.yaml", 5, "schema.enum")]
    assert not [f for f in found if "SEV-5" in f["hint"] or "review_type: full" in f["hint"]]


def test_ref_test_suggests_only_the_incident_s_own_tests(example: Path) -> None:
    edit(example / "incidents/INC_005/handoff.yaml", "test_id: regression_INC_005", "test_id: regression_INC_04")
    _code, found = check(example, "incidents/INC_005/handoff.yaml")
    refs = [f for f in found if f["rule"] == "ref.test"]
    assert [(f["line"], f["level"]) for f in refs] == [(7, "error")]
    assert refs[0]["hint"] == "did you mean 'regression_INC_005'?"  # never the retired regression_INC_004


@pytest.mark.parametrize(("char", "rule", "name"), [
    ("\u202e", "text.bidi-control", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\u2066", "text.bidi-control", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("\u200b", "text.invisible", "U+200B ZERO WIDTH SPACE"),
    ("\u200d", "text.invisible", "U+200D ZERO WIDTH JOINER"),
    ("\U000e0041", "text.invisible", "U+E0041 TAG LATIN CAPITAL LETTER A"),
])
def test_trojan_source_characters(example: Path, char: str, rule: str, name: str) -> None:
    edit(example / INC, "title: Phishing template", f"title: Phishing{char} template")
    code, found = check(example, INC)
    assert code == 1
    got = [f for f in found if f["rule"] == rule]
    assert [(f["line"], f["col"], f["level"]) for f in got] == [(3, 16, "error")]
    assert got[0]["message"].startswith(name)


def test_joiners_inside_words_of_other_scripts_pass(example: Path) -> None:
    # Persian needs the zero-width non-joiner between letters; emoji sequences join with ZWJ
    edit(example / INC, "title: Phishing template", "title: Phishing (\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f469\u200d\U0001f4bb) template")
    _code, found = check(example, INC)
    assert not [f for f in found if f["rule"].startswith("text.")]


def test_body_and_front_matter_agree(example: Path) -> None:
    edit(example / PM, "| A2 | Add multi-turn authority-reframing scenarios to the misuse benchmark | Safety team | 2026-04-15 | done |",
         "| A2 | Add multi-turn authority-reframing scenarios to the misuse benchmark | Safety team | 2026-05-15 | done |\n"
         "| A9 | Something nobody tracks | Safety team | 2026-05-15 | open |")
    code, found = check(example, PM)
    assert code == 1
    got = sorted((f["line"], f["message"]) for f in found if f["rule"] == "postmortem.body-mismatch")
    assert got == [(99, "action item A2: the body says due '2026-05-15', the front matter '2026-04-15'"),
                   (100, "action item 'A9' in the body is not in the front matter `action_items`")]
    edit(example / PM, "- **Benchmark coverage.**", "- **Benchmark.** too.\n- **Benchmark coverage.**")
    code, found = check(example, PM)
    assert any(f["message"] == "'## Contributing factors' lists 5 factor(s), the front matter `contributing_factors` 4"
               for f in found if f["rule"] == "postmortem.body-mismatch")


def test_several_regression_tests_per_incident(example: Path) -> None:
    args = ("--scenario", "roleplay_variant", "--expected-block-turn", "1", "--by", "Safety Team", "--as-of", AS_OF)
    again = run_cli("new", "regression", "INC_001", *args, cwd=example)
    assert again.code == 2 and "--test-id regression_INC_001_<name>" in again.err
    made = run_cli("new", "regression", "INC_001", "--test-id", "regression_INC_001_roleplay", *args, cwd=example)
    assert made.code == 0, made.err
    test = example / "regressions/regression_INC_001_roleplay.yaml"
    assert "test_id: regression_INC_001_roleplay" in test.read_text()
    wrong = run_cli("new", "regression", "INC_001", "--test-id", "regression_INC_005_x", *args, cwd=example)
    assert wrong.code == 2 and "is not a test id of INC_001" in wrong.err
    handoff = run_cli("handoff", "INC_009", "--test-id", "regression_INC_009_first", *args, cwd=example)
    assert handoff.code == 0, handoff.err
    assert "test_id: regression_INC_009_first" in (example / "incidents/INC_009/handoff.yaml").read_text()
    for path in (test, example / "regressions/regression_INC_009_first.yaml"):
        path.write_text(path.read_text().replace('"TODO: user turn 1 of the attack"', "The attack, turn 1")
                        .replace('"TODO: user turn 2 of the attack"', "The attack, turn 2"))
    code, found = check(example)
    assert code == 0, [f for f in found if f["level"] == "error"]


def test_handoff_writes_yaml_as_a_person_would(example: Path) -> None:
    edit(example / "incidents/INC_009/incident.yaml",
         "title: Refusal spike on security-education lessons after trajectory monitor retuning for aurora-3.0",
         'title: "Another tenant\'s <data> & more: refusal spike"')
    result = run_cli("handoff", "INC_009", "--by", "Safety Team", "--as-of", AS_OF, cwd=example)
    assert result.code == 0, result.err
    text = (example / "incidents/INC_009/handoff.yaml").read_text()
    assert "\\u0027" not in text and "\\u003c" not in text and "\\u0026" not in text
    assert 'incident_summary: "Another tenant\'s <data> & more: refusal spike"' in text


def test_actions_fail_on_overdue_for_ci(example: Path) -> None:
    late = run_cli("actions", "--as-of", "2027-02-01", "--fail-on-overdue", cwd=example)
    assert late.code == 1 and "OVERDUE" in late.out
    listed = run_cli("actions", "--as-of", "2027-02-01", cwd=example)
    assert listed.code == 0 and listed.out == late.out
    on_time = run_cli("actions", "--as-of", "2026-12-01", "--fail-on-overdue", cwd=example)
    assert on_time.code == 0, on_time.out
