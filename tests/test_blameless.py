"""Blameless-language lint: corpus precision/recall and per-rule locations."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from incidentops.checks.blameless import lint_text
from incidentops.records.findings import Finding

CORPUS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "blameless_corpus.yaml").read_text(encoding="utf-8")
)
PATH = "incidents/INC_001/postmortem.md"


def located(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.col) for f in findings]


def test_corpus_is_large_and_balanced() -> None:
    blameful = [entry for entry in CORPUS if entry["rules"]]
    assert len(CORPUS) >= 80
    assert 0.4 <= len(blameful) / len(CORPUS) <= 0.6


def test_corpus_precision_and_recall() -> None:
    tp = fp = fn = 0
    wrong_rule: list[str] = []
    for entry in CORPUS:
        found = {f.rule for f in lint_text(entry["text"], PATH)}
        expected = set(entry["rules"])
        if expected and found:
            tp += 1
            if not expected <= found:
                wrong_rule.append(entry["text"])
        elif expected:
            fn += 1
        elif found:
            fp += 1
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    print(
        f"\nblameless corpus: {len(CORPUS)} sentences, precision {precision:.3f},"
        f" recall {recall:.3f}, flagged with another rule than labelled: {len(wrong_rule)}"
    )
    assert precision >= 0.9
    assert recall >= 0.9
    assert len(wrong_rule) <= len(CORPUS) // 20, wrong_rule


# --- one test per rule: rule id, level, line, col, hint -----------------------------------

def test_named_individual() -> None:
    text = "## Contributing factors\n\nThe alert was late. Alice didn't review the PR properly.\n"
    [finding] = lint_text(text, PATH, first_line=12)
    assert (finding.rule, finding.line, finding.col) == ("blameless.named-individual", 14, 21)
    assert finding.level == "error"
    assert finding.path == PATH
    assert "'Alice'" in finding.message
    assert finding.hint.startswith("Name roles and processes")


@pytest.mark.parametrize(
    ("text", "col"),
    [
        ("Timeline: @jdoe forgot to rotate the key.", 11),
        ("The outage was caused by bob@acme.io.", 26),
        ("It was Bob's change that broke it, and Bob's change caused the leak.", 40),
        ("Because of Kevin, the filter shipped late.", 12),
        ("If Sofia had read the runbook, this would not have happened.", 4),
    ],
)
def test_named_individual_forms(text: str, col: int) -> None:
    assert located(lint_text(text, PATH)) == [("blameless.named-individual", 1, col)]


def test_named_individual_across_a_line_break() -> None:
    text = "During the rollout Alice\ndidn't run the eval suite.\n"
    assert located(lint_text(text, PATH)) == [("blameless.named-individual", 1, 20)]


def test_known_names_extend_the_list() -> None:
    text = "Okonkwo missed the page."
    assert lint_text(text, PATH) == []
    assert located(lint_text(text, PATH, known_names=["Chidi Okonkwo"])) == [
        ("blameless.named-individual", 1, 1)
    ]


def test_human_error() -> None:
    text = "## Contributing factors\n- The incident was ultimately operator error.\n"
    [finding] = lint_text(text, PATH)
    assert (finding.rule, finding.line, finding.col) == ("blameless.human-error", 2, 31)
    assert finding.level == "error"
    assert "'operator error'" in finding.message
    assert finding.hint.startswith("Identify the process gap")


@pytest.mark.parametrize(
    "text",
    [
        "This was not human error but a missing guardrail.",
        "Rather than blaming user error, we looked at the console design.",
        "Automation reduces the risk of human error in rollouts.",
        "The user error message was confusing.",
    ],
)
def test_human_error_not_as_a_cause(text: str) -> None:
    assert lint_text(text, PATH) == []


def test_root_cause() -> None:
    text = "Summary line.\n\nThe root cause was a stale allowlist.\n"
    [finding] = lint_text(text, PATH, first_line=5)
    assert (finding.rule, finding.line, finding.col) == ("blameless.root-cause", 7, 5)
    assert finding.level == "warning"
    assert finding.hint.startswith("Seek contributing factors, not root cause")


def test_root_cause_and_human_error_together() -> None:
    assert located(lint_text("Root cause: human error.", PATH)) == [
        ("blameless.root-cause", 1, 1),
        ("blameless.human-error", 1, 13),
    ]


def test_counterfactual() -> None:
    text = "- 14:05 alert fired\n- The on-call engineer should have noticed the spike.\n"
    [finding] = lint_text(text, PATH)
    assert (finding.rule, finding.line, finding.col) == ("blameless.counterfactual", 2, 3)
    assert finding.level == "warning"
    assert "'The on-call engineer should have noticed'" in finding.message
    assert finding.hint.startswith("Focus on systems, not individuals")


@pytest.mark.parametrize(
    "text",
    [
        "The on-call engineer should have had an alert.",
        "The on-call engineer should have been paged.",
        "The Safety team should have caught this.",
        "The classifier failed to flag the prompt.",
        "We should have had a canary.",
    ],
)
def test_counterfactual_about_systems_passes(text: str) -> None:
    assert lint_text(text, PATH) == []


def test_why_question() -> None:
    text = "Questions for the review:\n\n1. Why didn't the on-call engineer escalate?\n"
    [finding] = lint_text(text, PATH)
    assert (finding.rule, finding.line, finding.col) == ("blameless.why-question", 3, 4)
    assert finding.level == "warning"
    assert finding.hint.startswith("Ask what and how, not why")


def test_why_about_systems_or_explanations_passes() -> None:
    text = "Why did the classifier miss it?\nThat is why the on-call engineer escalated.\n"
    assert lint_text(text, PATH) == []


# --- what is skipped ----------------------------------------------------------------------

def test_fenced_code_inline_code_and_comments_are_skipped() -> None:
    text = (
        "```text\n"
        "Alice forgot to review this. Root cause: human error.\n"
        "```\n"
        "The seed's bad example is `Alice didn't review the PR properly`.\n"
        "<!-- Bob's change broke it -->\n"
        "~~~\nWhy did Bob approve it?\n~~~\n"
        "After the fence, Bob forgot to re-run the suite.\n"
    )
    assert located(lint_text(text, PATH)) == [("blameless.named-individual", 9, 18)]


def test_blameless_postmortem_body_is_clean() -> None:
    body = """\
## Summary

The model produced a phishing template after gradual authority reframing.
Trust & Safety escalated to the Safety team at 15:10.

## Contributing factors

- The review process didn't flag this pattern.
- The on-call engineer should have had an alert for multi-turn drift.
- Monitoring thresholds were tuned for single-turn attacks.

## What went well

- Alice joined the call at 14:20 and took incident commander duties.

## Action items

- A1: Add a turn-level monitor (owner: Safety team).
"""
    assert lint_text(body, PATH, first_line=20) == []


# --- documented exceptions ----------------------------------------------------------------

def test_allow_with_reason_silences_one_rule() -> None:
    text = (
        "<!-- incidentops: allow blameless.root-cause -- quoting the seed's anti-pattern table -->\n"
        "The table lists 'Root cause: human error' as an anti-pattern.\n"
    )
    assert located(lint_text(text, PATH)) == [("blameless.human-error", 2, 30)]


def test_allow_without_reason_is_reported_and_silences_nothing() -> None:
    text = "The root cause was X. <!-- incidentops: allow blameless.root-cause -->\n"
    findings = lint_text(text, PATH)
    assert located(findings) == [
        ("blameless.root-cause", 1, 5),
        ("blameless.allow-without-reason", 1, 23),
    ]


def test_allow_of_unknown_rule() -> None:
    text = "<!-- incidentops: allow blameless.rootcause -- typo -->\nThe root cause was X.\n"
    findings = lint_text(text, PATH)
    assert located(findings) == [
        ("blameless.allow-unknown-rule", 1, 1),
        ("blameless.root-cause", 2, 5),
    ]
    assert "did you mean blameless.root-cause?" in findings[0].hint


def test_pii_allow_is_not_a_blameless_concern() -> None:
    text = "<!-- incidentops: allow pii.email -->\nThe fix shipped.\n"
    assert lint_text(text, PATH) == []


def test_a_large_document_never_backtracks_without_end() -> None:
    """A 1 MB postmortem of near-miss text finishes (speed itself is measured in benchmarks/)."""
    script = (
        "from incidentops.checks.blameless import lint_text\n"
        "paragraph = \"The review process didn't flag this pattern, and the monitor threshold was high. \" * 20\n"
        "text = (paragraph + '\\n' + 'Alice Bob Carol Dave Eve ' * 50 + '\\n') * 100\n"
        "print(len(lint_text(text, 'incidents/INC_001/postmortem.md')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout.strip()) == (0, "0"), proc.stderr


# --- named subjects in every form, next to blame phrases ------------------------------------

@pytest.mark.parametrize(
    ("text", "col"),
    [
        # a @handle as the subject of a mistake
        ("Timeline: @alee made a mistake in the deploy script.", 11),
        ("The eval gate was disabled by @pkumar for the hotfix.", 31),
        ("The shift lead, @mbeck, didn't bother to read the escalation.", 17),
        # a full name set off by commas, after or before a role
        ("The incident commander, Rebecca Lyons, delayed the escalation.", 25),
        ("Our SRE on call, Tomasz Wójcik, ignored the alert for an hour.", 18),
        ("Arjun Mehta, the reviewer, approved the unsafe prompt.", 1),
        # a surname alone next to a blame phrase
        ("Harrington should have known better.", 1),
        ("Frankly, Vasquez was careless during the rollout.", 10),
        ("Because Castellano made a mistake, the filter shipped disabled.", 9),
        ("The outage was blamed on Whitaker in the first draft.", 26),
        # possessives
        ("The leak was Abernathy's fault.", 14),
        ("Okonkwo's negligence exposed the logs.", 1),
        ("Pemberton's rushed deploy caused the outage.", 1),
        ("Carlos's careless edit disabled the guardrail.", 1),
        # blame through what was done
        ("Fiona merged the prompt change without waiting for the red-team results.", 1),
    ],
)
def test_named_subjects_in_every_form(text: str, col: int) -> None:
    found = lint_text(f"## Contributing factors\n\n{text}\n", PATH, first_line=4)
    assert located(found) == [("blameless.named-individual", 6, col)]
    assert found[0].level == "error"


@pytest.mark.parametrize(
    ("text", "rule", "col"),
    [
        ("The engineer made a mistake in the config.", "blameless.human-error", 5),
        ("The outage was due to the negligence of the operator.", "blameless.human-error", 16),
        ("Careless handling by the analyst leaked the transcript.", "blameless.human-error", 1),
        ("Cause: negligence.", "blameless.human-error", 1),
        ("The cause was operator negligence.", "blameless.human-error", 15),
        ("The reviewer was careless.", "blameless.counterfactual", 1),
        ("The operator should have known better than to restart the cluster.", "blameless.counterfactual", 1),
        ("She made a mistake in the rotation.", "blameless.counterfactual", 1),
    ],
)
def test_blame_phrases_about_roles_and_pronouns(text: str, rule: str, col: int) -> None:
    assert located(lint_text(text, PATH)) == [(rule, 1, col)]


@pytest.mark.parametrize(
    "text",
    [
        "The incident commander, Rebecca Lyons, paged Legal at 10:02.",
        "Rebecca Lyons, the incident commander, ran the review.",
        "Thanks to @ops-sam for the quick rotation.",
        "Harrington's team added the missing alert.",
        "Moreau's rollback restored the previous filter in four minutes.",
        "Fiona merged the prompt change after the red-team results came back clean.",
        "The monitor made a mistake on the long prompt.",
        "The pipeline should have known better than to trust an unsigned artifact.",
        "We made a mistake in the rollout plan and revised it together.",
        "A careless config format made the typo easy; the schema now rejects it.",
        "Gross negligence is a legal term; the review avoids it.",
        "Aurora made a mistake on turn 4.",
        "This is on the agenda for the next safety council.",
    ],
)
def test_the_same_words_without_blame_pass(text: str) -> None:
    assert lint_text(text, PATH) == []


@pytest.mark.parametrize("corpus", ["heldout", "dev"])
def test_labelled_corpora_precision_and_recall(corpus: str) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_detectors", Path(__file__).resolve().parent.parent / "benchmarks" / "bench_detectors.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    entries = bench._load(bench.CORPORA[corpus]["blameless"])
    total, _, _ = bench.score_blameless(entries, [])
    print(f"\n{corpus} blameless: precision {total.precision:.3f}, recall {total.recall:.3f}")
    assert total.precision >= 0.95
    assert total.recall >= 0.9
