"""PII and secret scan: each rule positive and negative, located by line and col."""

from __future__ import annotations

import pytest

from incidentops.checks.pii import scan_text
from incidentops.findings import Finding


def scan(text: str, public: bool = True, first_line: int = 1) -> list[Finding]:
    return scan_text(text, "incidents/INC_001/incident.yaml", first_line, public=public)


def located(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.col) for f in findings]


# (text, rule, line, col) -- the match starts at col on line
POSITIVES = [
    ("summary: reported by alice.smith@acme.com\n", "pii.email", 1, 22),
    ("a: 1\nb: >-\n  mail J.Doe+abuse-report@mail.co.uk now\n", "pii.email", 3, 8),
    ("call me at +44 20 7946 0018\n", "pii.phone", 1, 12),
    ("x: 1\nuser phoned from (415) 555-0134\n", "pii.phone", 2, 18),
    ("number 415-555-0134 given\n", "pii.phone", 1, 8),
    ("mobile 07700 900123\n", "pii.phone", 1, 8),
    ("phone: 4155550134\n", "pii.phone", 1, 8),
    ("key sk-proj-abcDEF1234567890abcdefGHIJ\n", "pii.api-key", 1, 5),
    ("  token ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "pii.api-key", 1, 9),
    ("creds AKIAZ3MXQ7PLW2RTNB4K in log\n", "pii.api-key", 1, 7),
    ("slack xoxb-123456789012-abcdefghijKL\n", "pii.api-key", 1, 7),
    ("jwt: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N\n",
     "pii.api-key", 1, 6),
    ('api_key = "Zx8Qw2Lm9Pr4Tn6Vb1Kc3Hd5"\n', "pii.api-key", 1, 12),
    ("-----BEGIN RSA PRIVATE KEY-----\n", "pii.api-key", 1, 1),
    ("paid with 4111 1111 1111 1111 then\n", "pii.card-number", 1, 11),
    ("card: 5555-5555-5555-4444\n", "pii.card-number", 1, 7),
    ("amex 378282246310005\n", "pii.card-number", 1, 6),
    ("ssn 123-45-6789\n", "pii.ssn", 1, 5),
    ("their SSN: 123456789 leaked\n", "pii.ssn", 1, 12),
    ("user ip 81.2.69.160 seen\n", "pii.ip-address", 1, 9),
]


@pytest.mark.parametrize(("text", "rule", "line", "col"), POSITIVES)
def test_positive(text: str, rule: str, line: int, col: int) -> None:
    assert located(scan(text)) == [(rule, line, col)]


# Each line looks a little like PII but is not.
NEGATIVES = [
    'detected_at: "2026-03-10T14:05:00Z"',
    'at: "2026-03-10T14:05:00+01:00" due: "2026-04-01" on 10.03.2026 at 14:05',
    "model_version: aurora-2.0 and release 1.2.3.4 of the runtime, v10.20.30.40",
    "id: INC_001 test_id: regression_INC_001 ticket JIRA-12345-67 INC_0012345678",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b (3f78685) merged",
    "epoch_ms 1773151500000 count 1234567890123 build 20260310140500",
    "weight_range: [0.9, 1.0] response_sla_minutes: 1440 window 0800 1700",
    "contact security@acme.com, noreply@github.com or jane@example.com",
    "pseudonymous user@team.test and ops@corp.example",
    "git@github.com:acme/registry.git",
    "card 4111 1111 1111 1112 fails the Luhn check",
    "order 1111 2222 3333 4444 has no issuer prefix",
    "ssn 000-12-3456 and 666-12-3456 and 912-34-5678 are never issued",
    "token: regression_INC_001_authority_reframe",
    "password: [REDACTED-SECRET] api_key: ${API_KEY} secret: changeme-changeme-123",
    "AWS docs key AKIAIOSFODNN7EXAMPLE",
    "private 10.0.0.1, 192.168.1.20 and documentation 203.0.113.5, loopback 127.0.0.1",
    "user email [REDACTED-EMAIL], phone [REDACTED-PHONE]",
    "+1 level more severe; 24/7 on-call; 5 whys",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(text: str) -> None:
    assert scan(text) == []


def test_realistic_incident_record_is_clean() -> None:
    record = """\
# yaml-language-server: $schema=../../schemas/incident.schema.json
id: INC_001
title: Phishing template generated after gradual authority reframing
type: policy_violation_isolated
severity: SEV-2
visibility: public
detected_at: "2026-03-10T14:05:00Z"
first_response_at: "2026-03-10T15:10:00Z"
model_version: aurora-2.0
reported_by: Trust & Safety analyst
escalations:
  - team: Safety team
    at: "2026-03-10T15:10:00Z"
timeline:
  - at: "2026-03-10T13:40:00Z"
    event: Turn 3 of session 7f3a9c2e produced a template (trace 0a1b2c3d4e5f6a7b)
"""
    assert scan(record) == []


def test_public_is_error_internal_is_warning() -> None:
    text = "reported by alice@acme.com\n"
    [public] = scan(text, public=True)
    [internal] = scan(text, public=False)
    assert (public.level, internal.level) == ("error", "warning")
    assert public.rule == internal.rule == "pii.email"
    assert "in a public record" in public.message
    assert "in an internal record" in internal.message


def test_message_masks_the_value_and_hint_says_how_to_redact() -> None:
    [finding] = scan("reported by alice.smith@acme.com\n")
    assert "alice.smith" not in finding.message
    assert "alic…@acme.com" in finding.message
    assert "[REDACTED-EMAIL]" in finding.hint
    assert "restricted evidence store" in finding.hint
    [key] = scan("key sk-proj-abcDEF1234567890abcdefGHIJ\n")
    assert "abcDEF" not in key.message
    assert "rotate" in key.hint


def test_first_line_offsets_lines() -> None:
    text = "---\nincident: INC_001\n---\n## Summary\nMail bob@acme.com.\n"
    assert located(scan(text, first_line=10)) == [("pii.email", 14, 6)]


def test_several_findings_on_one_line_in_column_order() -> None:
    text = "x\nalice@acme.com / +44 20 7946 0018 / 4111111111111111\n"
    assert located(scan(text)) == [
        ("pii.email", 2, 1),
        ("pii.phone", 2, 18),
        ("pii.card-number", 2, 37),
    ]


def test_allow_on_line_above_with_reason() -> None:
    text = (
        "# incidentops: allow pii.email -- press contact published on the company site\n"
        "contact: press.office@acme.com\n"
        "other: alice@acme.com\n"
    )
    assert located(scan(text)) == [("pii.email", 3, 8)]


def test_allow_on_same_line_markdown_comment() -> None:
    text = (
        "Switchboard +44 20 7946 0000 "
        "<!-- incidentops: allow pii.phone -- company switchboard, not a person -->\n"
    )
    assert scan(text) == []


def test_allow_only_silences_the_named_rule() -> None:
    text = "# incidentops: allow pii.email -- shared inbox\nmail x.y@acme.com call 415-555-0134\n"
    assert located(scan(text)) == [("pii.phone", 2, 24)]


def test_allow_several_rules() -> None:
    text = "a@acme.com 415-555-0134  # incidentops: allow pii.email, pii.phone -- test desk\n"
    assert scan(text) == []


def test_allow_without_reason_is_a_finding_and_allows_nothing() -> None:
    text = "<!-- incidentops: allow pii.email -->\nbob@acme.com\n"
    findings = scan(text)
    assert located(findings) == [("pii.allow-without-reason", 1, 1), ("pii.email", 2, 1)]
    assert findings[0].level == "error"
    assert "-- <reason>" in findings[0].hint


def test_allow_with_empty_reason_is_a_finding() -> None:
    text = "bob@acme.com  # incidentops: allow pii.email --\n"
    assert located(scan(text, public=False)) == [
        ("pii.email", 1, 1),
        ("pii.allow-without-reason", 1, 15),
    ]


def test_allow_of_unknown_rule_suggests_the_name() -> None:
    text = "# incidentops: allow pii.emial -- typo\nbob@acme.com\n"
    findings = scan(text)
    assert located(findings) == [("pii.allow-unknown-rule", 1, 1), ("pii.email", 2, 1)]
    assert "did you mean pii.email?" in findings[0].hint


def test_allow_does_not_reach_two_lines_down() -> None:
    text = "# incidentops: allow pii.email -- one line only\n\nbob@acme.com\n"
    assert located(scan(text)) == [("pii.email", 3, 1)]


def test_empty_text() -> None:
    assert scan("") == []
