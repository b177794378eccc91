"""PII and secret scan: each rule positive and negative, located by line and col."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from incidentops.checks.pii import scan_text
from incidentops.records.findings import Finding

ROOT = Path(__file__).resolve().parent.parent


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


# --- phone numbers, as libphonenumber reads them ----------------------------------------------

PHONES = [
    # international form, groups separated by spaces, dots, dashes or brackets: every region
    ("Reach her on +44 7911 123456 after six.", 14),
    ("Berlin desk +49 30 2847 1193 was quoted.", 13),
    ("Her mobile, +33 6 12 34 56 78, leaked.", 13),
    ("Callback +91 98765 43210 today.", 10),
    ("Tokyo +81 3-3201-4455 office.", 7),
    ("São Paulo +55 11 98765-4321 line.", 11),
    ("Lagos +234 803 123 4567 line.", 7),
    ("Toronto +1 (416) 832-5519 line.", 9),
    ("Written together: +442079460958.", 19),
    ("Dialled as 0044 7700 954 321 from Spain.", 12),
    # national form with a trunk prefix, valid in a region that dials so
    ("UK line 020 3318 4472 given.", 9),
    ("Festnetz 030 28471193 genannt.", 10),
    ("Portable 06 71 28 45 93 cité.", 10),
    ("Sydney mobile 0412 345 678 shown.", 15),
    ("携帯 090-1234-5678 でした", 4),
    # North American numbers
    ("Call (312) 448-1907 now.", 6),
    ("Mobile 617.294.8830 copied.", 8),
    ("Numbers 212-639-4471 leaked.", 9),
]


@pytest.mark.parametrize(("text", "col"), PHONES)
def test_phone_numbers_of_every_region(text: str, col: int) -> None:
    assert located(scan(f"x: 1\n{text}\n")) == [("pii.phone", 2, col)]


NOT_PHONES = [
    "Models gpt-4o-2024-08-06 and claude-3-5-sonnet-20241022 were compared.",
    "Checkpoint ckpt-2026-03-14-0800 replaced ckpt-2026-03-10-2200.",
    "Run 20260310-140512-a7f3; case 4471-2219-8830; session 6b1e0c44-93f2-4f0a-b8d1-2c7d5e9a0f13.",
    "The window runs 0800-1700 and 0800 1700 on weekdays.",
    "Epoch 1773151500, seed 4155550134, count 2,147,483,647.",
    "Detected 2026-03-10T14:05:00Z, resolved 10.03.2026 at 18:30, step took 00:14:32.",
    "Release 4.2.1.7 of the runtime; build 10.0.19045.3803; OID 1.3.6.1.4.1.53124.2.1.",
    "Prices 1 299.00 EUR; 12,000,000 tokens; the string 555-0100 in a script.",
    "ssn 000-12-3456 is never issued",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_versions_model_names_ids_and_dates_are_not_phone_numbers(text: str) -> None:
    assert scan(text) == []


# --- credentials: detect-secrets' provider patterns and our own ----------------------------

CREDENTIALS = [
    # (text, col, what the message names)
    ("The log printed AKIAJPJOMKEFOIUC3LGT and the bucket.", 17, "AWS Access Key"),
    ("temp creds ASIAK89V9QZ3G6X92BRT pasted", 12, "AWS Access Key"),
    ("token ghp_MyEFGIm6It1j8uIwxwT2aYcxZMl3mhk615AZ committed", 7, "GitHub token"),
    ("leaked glpat-xarI6F3H-r_up8cUb1Er in the job", 8, "GitLab Token"),
    ("bot xoxb-543619852671-0813987916599-gsipyco9trq8dearpl20zxbz visible", 5, "Slack Token"),
    ("hook https://hooks.slack.com/services/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", 6, "Slack Token"),
    ("send 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 here", 6, "SendGrid API Key"),
    ("sms key SK30b99012e4c792c16e35d626ddaf722f logged", 9, "Twilio API Key"),
    ("npm npm_J2oo5t7t85dNxR5PjYecwJS61cEtRJJ0lIoM leaked", 5, "npm token"),
    ("bot 203664478:AAAAYtHZzOx0AKzcWprEKmW3FtU_aa1f5_7 quoted", 5, "Telegram Bot Token"),
    ("mc 6b9db1748b3a3f7c6ba7059797a16e5a-us14 in it", 4, "Mailchimp Access Key"),
    ("db postgres://evaladmin:Wq7hZ2pLx9Tb@db.internal.corp:5432/evals", 25, "Basic Auth Credentials"),
    ("cache redis://:Hk29sLq81XzPw@cache.internal:6379/0", 16, "password in a URL"),
    ("pay sk_live_aAPYUAtef5KCrmhNZHvXNbPp now", 5, "Stripe"),
    ("key sk-ant-api03-r4_wBcdqt61C4QttZQ_dKKfR9BEo8Ijf_L-LPSX6if6ElAcpkGXv_XjCnGvpYta8JntZfwxusEfLxNA4gcHw52ECUMeEYAA x", 5, "Anthropic API key"),
    ("key sk-proj-zupZJn48DPn5UcxeX1auGRyvr2GhlShhmeZV-R2gMwNRxovC x", 5, "OpenAI-style API key"),
    ("maps AIzaZGigy5TLaFfSX3hD_qgR2k-dhLHEWRfkAYt revoked", 6, "Google API key"),
    ("hf hf_k2pK7SzhWTuW0ORTvT9dKGUW7HASRwedkO found", 4, "Hugging Face token"),
    ("DD_API_KEY=0884331dc825ef5e4ea10f2a6368cef5", 12, "secret value"),
    ("notes said password=bD6i9BPkDj3%zH before", 21, "secret value"),
    ("Authorization: Bearer hrIXoVKppBFNP7Irv1FwTFGf3LGhycC4", 23, "bearer token"),
    ("The session key QfFkw0ABwfCzecW8iLNSJNrpyCVx was pasted in chat.", 17, "random-looking token"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", 1, "private key"),
]


@pytest.mark.parametrize(("text", "col", "what"), CREDENTIALS)
def test_credentials_of_several_providers(text: str, col: int, what: str) -> None:
    [finding] = scan(f"a: 1\n{text}\n")
    assert (finding.rule, finding.line, finding.col) == ("pii.api-key", 2, col)
    assert what.lower() in finding.message.lower()
    assert "rotate" in finding.hint


def test_a_jwt_must_be_well_formed() -> None:
    token = (
        "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidV84ODIxMyIsICJleHAiOiAxNzc1MDAwMDAwLCAic2NvcGUiOiAiYWRtaW4ifQ"
        ".nJTXFE8teKlGQs7DvJroj0_6Pv3u6ANA7BIbmo4WRXY"
    )
    [finding] = scan(f"cookie {token}\n")
    assert (finding.rule, finding.col) == ("pii.api-key", 8)
    assert scan("not a token eyJub3QganNvbg.eyJub3QganNvbg.abcdefghijk\n") == []


NOT_CREDENTIALS = [
    "commit 7c32e294bc9ae8fb8230ebaf6d4684ffd93758b8 and digest sha256:92cd297064dd1134cf8adc5e633c2e186c55a6d2eea7d599e4d3e3bfedff884c",
    "revision 0cb88a4f764b7a12671c53f0838cd831a0843b95 of meta-llama/Llama-3.2-3B-Instruct",
    "request req_01HQ3X7Z9K2M4N6P8R0S, trace 0a1b2c3d4e5f6a7b, uuid 123e4567-e89b-12d3-a456-426614174000",
    "keys come from ${OPENAI_API_KEY} and {{ secrets.HF_TOKEN }}; password: [REDACTED-SECRET]",
    "token: regression_INC_042_authority_reframe_phishing, max tokens 4096",
    "AWS docs key AKIAIOSFODNN7EXAMPLE",
    "TrustAndSafetyEscalationPolicyReview and internationalization",
]


@pytest.mark.parametrize("text", NOT_CREDENTIALS)
def test_hashes_ids_templates_and_words_are_not_credentials(text: str) -> None:
    assert scan(text) == []


# --- IP addresses: v4 and v6, never a version string ------------------------------------------

IPS = [
    ("Traffic came from 185.220.101.47 today.", 19),
    ("src 81.2.69.160:443 repeated", 5),
    ("user_ip: 91.198.174.192", 10),
    ("The address, 45.33.32.156, was blocked.", 14),
    ("Edge logs show 2a03:2880:f12f:83:face:b00c:0:25de for every session.", 16),
    ("Client 2606:4700:4700::1111 in every request.", 8),
    ("Source [2001:4860:4860::8844]:8443 repeated.", 9),
]


@pytest.mark.parametrize(("text", "col"), IPS)
def test_public_ipv4_and_ipv6_addresses(text: str, col: int) -> None:
    [finding] = scan(f"x: 1\n{text}\n")
    assert (finding.rule, finding.line, finding.col) == ("pii.ip-address", 2, col)


NOT_IPS = [
    "The runtime moved from 4.2.1.7 to 4.2.2.0; the driver from 5.1.2.9 to 5.1.3.0.",
    "We pinned onnxruntime 1.16.3.0, TensorRT 8.6.1.6 and cuDNN 8.9.2.26.",
    "Firmware 2.4.18.3, agent v10.20.30.40, image eval-runner:5.12.0.3, safety-filter 3.4.1.2.",
    "Upgraded torch to 2.1.0.1 and protobuf to 4.25.3.0.",
    "Pods 10.20.0.15 and 192.168.40.7; CGNAT 100.64.3.2; docs 198.51.100.23 and 2001:db8:85a3::8a2e:370:7334.",
    "Loopback ::1, link-local fe80::1ff:fe23:4567:890a, ULA fd12:3456:789a:1::1, MAC 00:1a:2b:3c:4d:5e.",
    "Times 14:05:00 and 09:30; ratio 3:2.",
]


@pytest.mark.parametrize("text", NOT_IPS)
def test_versions_private_and_documentation_addresses_are_not_reported(text: str) -> None:
    assert scan(text) == []


def test_an_address_word_beats_a_version_word() -> None:
    text = "After the release, requests from client IP 81.2.69.160 spiked.\n"
    assert located(scan(text)) == [("pii.ip-address", 1, 44)]


# --- the labelled corpora --------------------------------------------------------------------

def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_detectors", ROOT / "benchmarks" / "bench_detectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("corpus", ["heldout", "dev"])
def test_pii_corpus_precision_and_recall(corpus: str) -> None:
    bench = _bench()
    entries = bench._load(bench.CORPORA[corpus]["pii"])
    total, by_rule, _ = bench.score_pii(entries, [])
    print(f"\n{corpus} pii: precision {total.precision:.3f}, recall {total.recall:.3f}")
    assert total.precision >= 0.95
    assert total.recall >= 0.95
    assert by_rule["pii.phone"].tp >= 13 and by_rule["pii.ip-address"].tp >= 5


def test_words_run_together_are_not_a_random_token() -> None:
    # a site's search index joins a table's cells: "Item", "Owner", "Due", "Status", "A1" ...
    assert scan("ItemOwnerDueStatusA1AddTurnLevelMonitorSafetyTeam2026Q4\n") == []
    assert scan("Commit3f786850e387550fdab836ed7e6dc881de23001bRecorded\n") == []
    [finding] = scan("pasted NX7iwymXjwSixg8clhX8KD5hSObDSh9g in chat\n")
    assert (finding.rule, finding.col) == ("pii.api-key", 8)
