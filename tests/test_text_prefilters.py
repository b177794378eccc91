"""The text checks skip work only where nothing can match: edge cases of those shortcuts."""

from __future__ import annotations

import re

import pytest

from incidentops.checks import blameless
from incidentops.checks.blameless import lint_text
from incidentops.checks.pii import scan_text
from incidentops.checks.textscan import finditer_from, folded
from incidentops.yamlio import load_bytes


def found(text: str) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.col) for f in lint_text(text, "p.md")]


def pii(text: str) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.col) for f in scan_text(text, "x.yaml", public=True)]


@pytest.mark.parametrize(
    ("text", "col"),
    [
        ("It was operator error.", 8),                   # head word + error
        ("It was the reviewer's mistake.", 12),          # a role's fault
        ("It was their fault.", 8),                      # his/her/their
        ("A fault of the on-call engineer.", 3),         # fault of <role>
        ("The leak was caused by sheer negligence.", 14),  # caused by <trait>
    ],
)
def test_each_human_error_form_alone(text: str, col: int) -> None:
    assert found(text) == [("blameless.human-error", 1, col)]


@pytest.mark.parametrize(
    "text",
    [
        "It was operator mista\u212ae.",  # Kelvin sign: IGNORECASE reads it as k
        "It was HUMAN ERROR.",
        "It was a human \u017flip.",  # long s
    ],
)
def test_case_insensitive_rules_see_every_spelling_the_regex_engine_matches(text: str) -> None:
    assert [rule for rule, _, _ in found(text)] == ["blameless.human-error"]


def test_folding_keeps_offsets() -> None:
    text = "İstanbul \u212aelvin ſtraße"
    assert len(folded(text)) == len(text)
    assert folded(text).startswith("istanbul kelvin s")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He should have checked the logs.", [("blameless.counterfactual", 1, 1)]),
        ("They did not review the transcript.", []),                  # 'they' + duty verb is allowed
        ("She did not review the transcript.", [("blameless.counterfactual", 1, 1)]),
        ("Xiomara forgot to rotate the key.", [("blameless.named-individual", 1, 1)]),
        ("Zed was careless with the key.", [("blameless.named-individual", 1, 1)]),
        ("Zed reviewed the key.", []),                                # unknown name, no people-only verb
        ("If the reviewer had read the runbook, fine.", [("blameless.counterfactual", 1, 4)]),
        ("The classifier could not flag it.", []),                   # 'could' without a counterfactual
        ("The team should have had an alert.", []),
    ],
)
def test_subject_rules_with_and_without_their_verbs(text: str, expected) -> None:
    assert found(text) == expected


def test_capitalised_words_start_only_after_a_word_boundary() -> None:
    assert found("xAlice forgot it. mcAlice forgot it.") == []
    assert found("Alice forgot it.") == [("blameless.named-individual", 1, 1)]
    assert blameless.CAPWORD_RE.match("Alice", 0) is not None
    assert [m.group() for m in blameless.CAPWORD_RE.finditer("a Bob, xCarl")] == ["Bob"]
    assert [m.group() for m in blameless.INITIAL_RE.finditer("J. Smith and xJ. Doe")] == ["J. Smith"]


def test_code_and_comments_are_masked_with_offsets_kept() -> None:
    text = "`Alice forgot`\n```\nBob forgot\n```\n<!-- Carl forgot -->\nDana forgot it.\n"
    assert found(text) == [("blameless.named-individual", 6, 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(415) 555-0134", [("pii.phone", 1, 1)]),
        ("415-555-0134", [("pii.phone", 1, 1)]),
        ("x415-555-0134", []),
        ("020 7946 0018", [("pii.phone", 1, 1)]),
        ("+44 20 7946 0018", [("pii.phone", 1, 1)]),
        ("call me at 4155550134", [("pii.phone", 1, 12)]),
        ("123-45-6789", [("pii.ssn", 1, 1)]),
        ("SSN: 123456789", [("pii.ssn", 1, 6)]),
        ("4111 1111 1111 1111", [("pii.card-number", 1, 1)]),
        ("8.8.8.8", [("pii.ip-address", 1, 1)]),
        ("version 8.8.8.8", []),
        ("at: \"2025-04-12T21:30:00Z\"", []),
        ("key: sk-abcdefghijklmnopqrstuvwxyz123", [("pii.api-key", 1, 6)]),
        ("risk-abcdefghijklmnopqrstuvwxyz123", []),
        ("api_key: Xy7kPq9LmN3rTz2WvB8s", [("pii.api-key", 1, 10)]),
    ],
)
def test_pii_patterns_at_the_start_of_a_text_and_after_a_word(text: str, expected) -> None:
    assert pii(text) == expected


def test_finditer_from_equals_finditer() -> None:
    pattern = re.compile(r"\b(?:phone|tel)\b\W*\d+", re.IGNORECASE)
    text = "Tel 1, PHONE: 22, telephone 3, hotel 4, tel: 55 tel 6"
    expected = [m.span() for m in pattern.finditer(text)]
    assert [m.span() for m in finditer_from(pattern, text, folded(text), ("phone", "tel"))] == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"a: Trust & Safety\nb: 5 * 3\nc: \"hi!\"\n",  # & * ! that are not anchors, aliases or tags
        b"a: &x 1\nb: *x\n",
        b"a: !!str 5\n",
        b"a: 1\na: 2\n",
        b"? [x]\n: 1\n",
        b"a: [1, {b: yes, c: 017}]\nd: |\n  text\n",
    ],
)
def test_node_and_event_readers_agree(raw: bytes) -> None:
    from incidentops import yamlio

    fast = load_bytes(raw, "x.yaml")
    saved, yamlio._Parser = yamlio._Parser, None  # force the event reader
    try:
        slow = load_bytes(raw, "x.yaml")
    finally:
        yamlio._Parser = saved
    assert (fast.data, fast.values, fast.keys, fast.findings) == (slow.data, slow.values, slow.keys, slow.findings)
