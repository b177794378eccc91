"""The text checks skip work only where nothing can match: edge cases of those shortcuts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from incidentops.checks import blameless
from incidentops.checks import pii as pii_scan
from incidentops.checks.blameless import lint_text
from incidentops.checks.pii import scan_text
from incidentops.checks.textscan import finditer_from, folded
from incidentops.records.yamlio import load_bytes


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
    from incidentops.records import yamlio

    fast = load_bytes(raw, "x.yaml")
    saved, yamlio._Parser = yamlio._Parser, None  # force the event reader
    try:
        slow = load_bytes(raw, "x.yaml")
    finally:
        yamlio._Parser = saved
    assert (fast.data, fast.values, fast.keys, fast.findings) == (slow.data, slow.values, slow.keys, slow.findings)


# --- the PII guard's gates: a library or a pattern is skipped only where it cannot match -----

DATA = Path(__file__).parent / "data" / "detectors"


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for name in ("pii_heldout.yaml", "pii_dev.yaml"):
        texts.extend(entry["text"] for entry in yaml.safe_load((DATA / name).read_text(encoding="utf-8")))
    return texts


def test_the_library_hint_holds_wherever_a_detect_secrets_pattern_matches() -> None:
    texts = _corpus_texts()
    matched = 0
    for text in texts:
        hits = [kind for kind, pattern in pii_scan._library().patterns if pattern.search(text)]
        if hits:
            matched += 1
            assert pii_scan._library_hint(pii_scan._Text(text)), (hits, text)
    assert matched >= 20


def test_the_number_gate_holds_wherever_a_number_pattern_matches() -> None:
    for text in _corpus_texts():
        patterns = (pii_scan.SSN_RES[0], pii_scan.IPV4_RE, pii_scan.CARD_RE, pii_scan.PHONE_CANDIDATE_RE)
        if any(pattern.search(text) for pattern in patterns):
            assert pii_scan.NUMBERS_RE.search(text), text
        if pii_scan.IPV6_RE.search(text):
            assert "::" in text or pii_scan.IPV6_GATE_RE.search(text), text


def test_records_without_candidates_never_load_the_libraries(example) -> None:
    code = (
        "import sys, pathlib\n"
        "from incidentops.checks.pii import scan_text\n"
        "for path in sorted(pathlib.Path(sys.argv[1]).rglob('*')):\n"
        "    if path.suffix in ('.yaml', '.md'):\n"
        "        assert scan_text(path.read_text(), str(path), public=True) == [], path\n"
        "print(sorted(m for m in ('phonenumbers', 'detect_secrets') if m in sys.modules))\n"
        "scan_text('call +44 7911 123456 or use AKIAJPJOMKEFOIUC3LGT', 'x', public=True)\n"
        "print(sorted(m for m in ('phonenumbers', 'detect_secrets') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(pii_scan.__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(example)], capture_output=True, text=True, env=env, check=True
    ).stdout.split("\n")
    assert out[:2] == ["[]", "['detect_secrets', 'phonenumbers']"]


def test_the_run_gate_holds_wherever_a_hand_written_credential_pattern_matches() -> None:
    matched = 0
    for text in _corpus_texts():
        for name, pattern in pii_scan.TOKEN_RES:
            if name not in ("private key", "password in a URL") and pattern.search(text):
                matched += 1
                assert pii_scan._Text(text).alnum_run, (name, text)
    assert matched >= 10
    # bytes of a non-ASCII text are looked at too: a key next to Japanese text is found
    assert pii_scan._Text("鍵 AKIAJPJOMKEFOIUC3LGT です").alnum_run
    assert not pii_scan._Text("regression_INC_00123 and multi_turn_reframing").alnum_run
