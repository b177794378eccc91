"""PII and secret scan of record files: e-mails, phones, API keys, card numbers, SSNs, IPs.

The scan reads the raw file text line by line, so findings point at the exact
``line:col`` whatever the format. Findings are errors in public records and warnings
in internal ones. Matched values are never echoed in full: a finding must not leak
the data it reports into CI logs.

A documented exception silences one rule on its own line and the next one::

    # incidentops: allow pii.email -- press contact published on the company site
    <!-- incidentops: allow pii.phone -- switchboard number, not a person -->

An allow without a ``-- reason`` does not silence anything and is itself reported
(``pii.allow-without-reason``).
"""

from __future__ import annotations

import bisect
import ipaddress
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from incidentops.checks.allow import scan_allows
from incidentops.checks.textscan import finditer_from, folded, has_any
from incidentops.findings import ERROR, WARNING, Finding

EVIDENCE = "keep the leaked data in the restricted evidence store, not in the registry"

RULES: dict[str, tuple[str, str]] = {
    # rule: (what, hint)
    "pii.email": (
        "e-mail address",
        f"replace with [REDACTED-EMAIL] or a role (e.g. 'the reporting user'); {EVIDENCE}",
    ),
    "pii.phone": (
        "phone number",
        f"replace with [REDACTED-PHONE] or a role; {EVIDENCE}",
    ),
    "pii.api-key": (
        "credential",
        "revoke and rotate the credential now, then replace it with [REDACTED-SECRET];"
        " a secret in Git history stays readable after the line is deleted",
    ),
    "pii.card-number": (
        "payment card number",
        f"replace with [REDACTED-CARD] (keep at most the last 4 digits); {EVIDENCE}",
    ),
    "pii.ssn": (
        "US Social Security number",
        f"replace with [REDACTED-SSN]; {EVIDENCE}",
    ),
    "pii.ip-address": (
        "public IP address",
        f"replace with [REDACTED-IP] or a documentation address (203.0.113.x); {EVIDENCE}",
    ),
}

# Reserved for documentation (RFC 2606 / RFC 6761): not anyone's address.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
# Shared mailboxes of an organisation, not a person's.
ROLE_MAILBOXES = frozenset((
    "noreply", "no-reply", "donotreply", "security", "abuse", "postmaster", "hostmaster",
    "webmaster", "support", "info", "privacy", "legal", "press", "git",
))

# Patterns that start by looking back (is this the start of a number?) are written with
# the look-back after their first character, so the regex engine can jump from one
# candidate character to the next: same matches, far fewer tries.
EMAIL_RE = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b"
)
PHONE_RES = (
    # international: +44 20 7946 0018, +1 (415) 555-0134, +491701234567
    re.compile(r"\+(?<![\w+]\+)\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w.])"),
    # North American: (415) 555-0134, 415-555-0134, 415.555.0134
    re.compile(r"[(\d](?<![\w.-][(\d])(?:(?<=\()\d{3}\) ?|(?<=\d)\d{2}[ .-])\d{3}[ .-]\d{4}(?![\w.-])"),
    # national trunk prefix: 020 7946 0018, 07700 900123, 030-12345678
    re.compile(r"0(?<![\w.-]0)\d{2,4}[ -]\d{3,8}(?:[ -]\d{3,4})?(?![\w.-])"),
    # bare digits announced as a phone: "phone: 4155550134"
    re.compile(
        r"(?i)\b(?:phone|tel|telephone|mobile|cell|sms|whatsapp|call(?:ed)? (?:me )?(?:at|on))"
        r"\b[\s:#.]*(\+?\d[\d ().-]{6,}\d)"
    ),
)
SSN_RES = (
    re.compile(r"(\d(?<![\w-]\d)\d\d)-(\d{2})-(\d{4})(?![\w-])"),
    re.compile(r"(?i)\b(?:ssn|social security(?: number)?)\b[\s:#.]*((\d{3})(\d{2})(\d{4}))\b"),
)
CARD_RE = re.compile(r"\d(?<![\w.-]\d)(?:[ -]?\d){12,18}(?![\w.-])")
IPV4_RE = re.compile(r"\d(?<![\w.-]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w.-]|\.\d)")
VERSION_BEFORE_RE = re.compile(r"(?i)(?:\bv|version|release|build)[\s:=]*$")

TOKEN_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    ("OpenAI-style API key", re.compile(r"sk-(?<![\w-]sk-)(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}")),
    ("Stripe key", re.compile(r"(?<!\w)(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("GitHub token", re.compile(r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})")),
    ("AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("Slack token", re.compile(r"(?<!\w)xox[abporse]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"(?<!\w)AIza[0-9A-Za-z_-]{35}")),
    ("JSON Web Token", re.compile(r"(?<!\w)eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")),
)
GENERIC_SECRET_RE = re.compile(
    r"(?i)\b(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?key)?|client[_-]?secret|"
    r"token|auth[_-]?token|access[_-]?token|password|passwd|pwd)\b[\"']?\s*[:=]\s*[\"']?"
    r"([A-Za-z0-9_\-+/=.]{16,})"
)
PLACEHOLDER_RE = re.compile(r"(?i)redacted|example|placeholder|changeme|dummy|your[_-]|x{6,}|\*{4,}")



@dataclass(frozen=True)
class _Hit:
    rule: str
    start: int
    end: int
    shown: str


def scan_text(text: str, path: str, first_line: int = 1, *, public: bool) -> list[Finding]:
    """Scan ``text`` for PII and secrets; lines count from ``first_line``.

    ``public`` is the record's visibility: findings are errors when it is published.
    """
    level = ERROR if public else WARNING
    # Scan the whole text with each pattern (one pass in C each), then place every
    # hit on its line: much faster than calling every pattern on every line.
    hits = _hits(text)
    if not hits and "incidentops" not in text:
        return []  # no hit and no allow comment: nothing to report
    lines = text.splitlines()
    allows = scan_allows(lines, path, first_line, "pii", RULES, level)
    findings = list(allows.findings)
    where = "a public" if public else "an internal"
    starts = [0]
    starts.extend(match.end() for match in _NEWLINE_RE.finditer(text))
    for hit in hits:
        index = bisect.bisect_right(starts, hit.start) - 1
        number = first_line + index
        if allows.allowed(number, hit.rule):
            continue
        what, hint = RULES[hit.rule]
        findings.append(
            Finding(
                path, number, hit.start - starts[index] + 1, level, hit.rule,
                f"{what} ({hit.shown}) in {where} record", hint,
            )
        )
    return sorted(findings, key=Finding.sort_key)


_NEWLINE_RE = re.compile("\n")


def _hits(text: str) -> list[_Hit]:
    """Every match in ``text``; overlapping matches keep the most specific rule."""
    candidates: list[_Hit] = []
    scan = _Text(text)
    for scanner in SCANNERS:
        candidates.extend(scanner(scan))
    kept: list[_Hit] = []
    for hit in candidates:
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda hit: hit.start)


class _Text:
    """The scanned text, with what every scanner needs computed once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lower = text.lower()
        self.folded = self.lower if text.isascii() else folded(text)
        # Most records hold no number that could be a card, an SSN, an IP or a phone.
        self.numbers = NUMBERS_RE.search(text) is not None


# The start of every match of PHONE_RES[1], SSN_RES[0], IPV4_RE and CARD_RE, in one
# pattern: when it finds nothing, those four need not run.
NUMBERS_RE = re.compile(
    r"[(\d](?<![\w-][(\d])(?:(?<=\()\d{3}\) ?\d{3}[ .-]\d{4}"
    r"|(?<=\d)(?:\d\d[ .-]\d{3}[ .-]\d{4}|\d\d-\d\d-\d{4}|\d{0,2}\.\d{1,3}\.\d{1,3}\.\d|(?:[ -]?\d){12}))"
)


# A literal every match of a pattern contains: the pattern only runs when one is present.
_TOKEN_LITERALS = {
    "private key": ("PRIVATE KEY",), "OpenAI-style API key": ("sk-",), "Stripe key": ("_live_", "_test_"),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "AWS access key id": ("AKIA", "ASIA"),
    "Slack token": ("xox",), "Google API key": ("AIza",), "JSON Web Token": ("eyJ",),
}
_SECRET_WORDS = ("key", "secret", "token", "passw", "pwd")
_PHONE_WORDS = ("phone", "tel", "mobile", "cell", "sms", "whatsapp", "call")
_SSN_WORDS = ("ssn", "social security")
# The words a match of GENERIC_SECRET_RE, PHONE_RES[3] or SSN_RES[1] starts with (in any
# case): those patterns are tried only where one of them occurs.
_SECRET_STARTS = ("api", "access", "secret", "client", "token", "auth", "passw", "pwd")
_PHONE_STARTS = _PHONE_WORDS
_SSN_STARTS = _SSN_WORDS


def _present(text: str, literals: tuple[str, ...]) -> bool:
    return has_any(text, literals)


def _api_keys(scan: _Text) -> Iterator[_Hit]:
    line, lower = scan.text, scan.lower
    for name, pattern in TOKEN_RES:
        if not _present(line, _TOKEN_LITERALS.get(name, ("",))):
            continue
        for match in pattern.finditer(line):
            if PLACEHOLDER_RE.search(match.group()):
                continue
            yield _Hit("pii.api-key", match.start(), match.end(), f"{name} {_mask(match.group())}")
    if not _present(lower, _SECRET_WORDS):
        return
    for match in finditer_from(GENERIC_SECRET_RE, line, scan.folded, _SECRET_STARTS):
        value = match.group(1)
        if _looks_secret(value):
            start = match.start(1)
            yield _Hit("pii.api-key", start, match.end(1), f"secret value {_mask(value)}")


def _emails(scan: _Text) -> Iterator[_Hit]:
    line = scan.text
    if "@" not in line:
        return
    for match in EMAIL_RE.finditer(line):
        local, domain = match.group(1).lower(), match.group(2).lower()
        if _reserved_domain(domain) or local in ROLE_MAILBOXES:
            continue
        yield _Hit("pii.email", match.start(), match.end(), f"{_mask(local)}@{domain}")


def _cards(scan: _Text) -> Iterator[_Hit]:
    if not scan.numbers:
        return
    for match in CARD_RE.finditer(scan.text):
        raw = match.group()
        digits = re.sub(r"\D", "", raw)
        if 13 <= len(digits) <= 19 and _card_prefix(digits) and _luhn(digits):
            yield _Hit("pii.card-number", match.start(), match.end(), f"ending {digits[-4:]}")


def _ssns(scan: _Text) -> Iterator[_Hit]:
    line = scan.text
    worded = _present(scan.lower, _SSN_WORDS)
    for pattern in SSN_RES:
        if (pattern is SSN_RES[0] and not scan.numbers) or (pattern is SSN_RES[1] and not worded):
            continue
        matches = (
            finditer_from(pattern, line, scan.folded, _SSN_STARTS) if pattern is SSN_RES[1] else pattern.finditer(line)
        )
        for match in matches:
            area, group, serial = match.groups()[-3:]
            if area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000":
                continue
            span = match.span(1) if len(match.groups()) == 4 else match.span()
            yield _Hit("pii.ssn", span[0], span[1], f"ending {serial}")


def _phones(scan: _Text) -> Iterator[_Hit]:
    line = scan.text
    plus = "+" in line
    worded = _present(scan.lower, _PHONE_WORDS)
    for pattern in PHONE_RES:
        if (
            (pattern is PHONE_RES[0] and not plus)
            or (pattern is PHONE_RES[1] and not scan.numbers)
            or (pattern is PHONE_RES[3] and not worded)
        ):
            continue
        matches = (
            finditer_from(pattern, line, scan.folded, _PHONE_STARTS)
            if pattern is PHONE_RES[3] else pattern.finditer(line)
        )
        for match in matches:
            group = 1 if pattern.groups else 0
            value = match.group(group)
            digits = re.sub(r"\D", "", value)
            if not 8 <= len(digits) <= 15:
                continue
            if not value.startswith("+") and len(digits) < 10:
                continue
            start, end = match.span(group)
            yield _Hit("pii.phone", start, end, f"ending {digits[-2:]}")


def _ips(scan: _Text) -> Iterator[_Hit]:
    if not scan.numbers:
        return
    line = scan.text
    for match in IPV4_RE.finditer(line):
        try:
            address = ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        if not address.is_global or VERSION_BEFORE_RE.search(line[: match.start()]):
            continue
        octets = match.group().split(".")
        yield _Hit("pii.ip-address", match.start(), match.end(), f"{octets[0]}.x.x.x")


# Most specific first: a secret that contains digits is not also a phone number.
SCANNERS: tuple[Callable[[_Text], Iterator[_Hit]], ...] = (
    _api_keys, _emails, _cards, _ssns, _phones, _ips,
)


def _reserved_domain(domain: str) -> bool:
    if domain.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return True
    return any(domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS)


def _card_prefix(digits: str) -> bool:
    """Issuer prefixes (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay)."""
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"
        or 51 <= two <= 55
        or 2221 <= four <= 2720
        or two in (34, 37, 35, 36, 38, 62, 65)
        or 300 <= int(digits[:3]) <= 305
        or four == 6011
        or 644 <= int(digits[:3]) <= 649
    )


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _looks_secret(value: str) -> bool:
    """A random-looking value, not an identifier such as ``regression_INC_001_v2``."""
    if PLACEHOLDER_RE.search(value):
        return False
    # Identifiers are short words joined by _ - . ; secrets have one long random run.
    run = max(re.split(r"[_.-]", value), key=len)
    if len(run) < 16:
        return False
    classes = sum(bool(re.search(pattern, run)) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2 and _entropy(run) >= 3.5


def _entropy(value: str) -> float:
    counts = {char: value.count(char) for char in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 6 else value[:1] + "…"
