"""PII and secret scan of record files: e-mails, phones, credentials, card numbers, SSNs, IPs.

The scan reads the raw file text, so findings point at the exact ``line:col`` whatever
the format. Findings are errors in public records and warnings in internal ones. Matched
values are never echoed in full: a finding must not leak the data it reports into CI logs.

Two well-kept libraries do what they do better than our own patterns:

- Google's libphonenumber (``phonenumbers``) decides whether a run of digits is a phone
  number: in international form (``+CC ...`` or ``00CC ...``) for every region, in
  national form with a trunk prefix (``020 ...``, ``06 ...``, ``090-...``) when it is a
  valid number of a region that dials that way, and North American numbers written
  ``(415) 555-0134``, ``415-555-0134`` or ``415.555.0134``.
- Yelp's ``detect-secrets`` supplies the provider formats of credentials (AWS, GitHub,
  GitLab, Slack, Stripe, SendGrid, Twilio, npm, PyPI, Azure storage, Discord, Telegram,
  Mailchimp, Square, IBM, JSON Web Tokens, private keys, passwords in URLs ...) and its
  checks that a match is not a sequence, a UUID or a template.

Both are loaded only when a text holds a candidate (a phone-shaped run of digits, a long
run of letters and digits, a key header or a URL with a password): most records hold
none, and the check of a whole registry never pays for them.

Kept hand-written, because no library does it for prose: e-mail addresses (with the
documentation domains and role mailboxes that are no one's), card numbers (issuer prefix
and Luhn), US SSNs, IPv4 and IPv6 addresses that are public (``ipaddress``) and not a
four-part version string (``Chrome 120.0.6099.109``, ``driver 5.1.2.9``), credentials of
providers ``detect-secrets`` does not know (Anthropic, OpenAI project keys, Google API
keys, Hugging Face, npm tokens outside ``.npmrc``, GitHub fine-grained tokens), values
given to a secret-named key (``password=...``, ``DD_API_KEY=...``, ``Authorization:
Bearer ...``) and random-looking tokens in prose (libraries look for those in quoted
strings of code only).

A documented exception silences one rule on its own line and the next one::

    # incidentops: allow pii.email -- press contact published on the company site
    <!-- incidentops: allow pii.phone -- switchboard number, not a person -->

An allow without a ``-- reason`` does not silence anything and is itself reported
(``pii.allow-without-reason``).
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from incidentops.checks.allow import scan_allows
from incidentops.checks.textscan import finditer_from, folded, has_any
from incidentops.records.findings import ERROR, WARNING, Finding

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
        f"replace with [REDACTED-IP] or a documentation address (203.0.113.x, 2001:db8::x); {EVIDENCE}",
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
    r"(?<![\w.+:-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b"
)
# A run of digits that may be a phone number: a '+', '(' or digit that does not continue
# a word, a number, a path or a time, then digits and separators; libphonenumber decides.
PHONE_CANDIDATE_RE = re.compile(
    r"[+(\d](?<![\w.+/:#-][+(\d])(?!\d{3}-\d\d-\d\d)[\d \t().\u00a0-]{5,24}\d(?![\w]|[.:/-]\w)"
)
# "phone: 4155550134": bare digits announced as a phone.
PHONE_WORDED_RE = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|sms|whatsapp|call(?:ed)? (?:me )?(?:at|on))"
    r"\b[\s:#.]*(\+?\d[\d ().-]{6,}\d)"
)
NANP_RE = re.compile(r"(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}")
NOT_PHONE_RES = (
    re.compile(r"\d{4}-\d\d-\d\d"),  # ISO date
    re.compile(r"\d\d?[./]\d\d?[./]\d{4}"),  # 10.03.2026, 3/10/2026
    re.compile(r"(?:[01]\d|2[0-3])[0-5]\d(?:\s*-\s*|\s+)(?:[01]\d|2[0-3])[0-5]\d"),  # hours 0800-1700
    re.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),  # an IPv4 address or a version
)
SSN_RES = (
    re.compile(r"(\d(?<![\w-]\d)\d\d)-(\d{2})-(\d{4})(?![\w-])"),
    re.compile(r"(?i)\b(?:ssn|social security(?: number)?)\b[\s:#.]*((\d{3})(\d{2})(\d{4}))\b"),
)
CARD_RE = re.compile(r"\d(?<![\w.-]\d)(?:[ -]?\d){12,18}(?![\w.-])")
IPV4_RE = re.compile(r"\d(?<![\w.-]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w.-]|\.\d)")
# An IPv6 address has eight groups or a '::' (times such as 14:05:00 have neither); the
# eight-group form holds this, and the regex runs only where '::' or this occurs.
IPV6_GATE_RE = re.compile(r":[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:")
IPV6_RE = re.compile(
    r"(?<![\w:.])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4})(?![\w:])"
)
# What comes just before a four-part number that makes it a version, not an address.
VERSION_WORDS = (
    r"v|ver|version|versions|release|released|build|builds|firmware|driver|drivers|kernel"
    r"|runtime|sdk|library|lib|package|packages|plugin|patch|patched|update|updated|upgrade"
    r"|upgraded|upgrading|downgrade|downgraded|bump|bumped|pin|pinned|rollback|rolled|revision"
    r"|rev|tag|tagged|agent|client\s+version|app|application|tool|tools|binary|image|engine"
)
VERSION_BEFORE_RE = re.compile(rf"(?i)\b(?:{VERSION_WORDS})\b[^.;!?\n]{{0,40}}$|(?:\bv|[@=/_-])$")
# Words after which a four-part number reads as an address whatever came earlier.
IP_WORDS_RE = re.compile(
    r"(?i)(?:\b|_)(?:ip|ips|ipv4|ip\s+address(?:es)?|address(?:es)?|addr|host|hosts|hostname|client"
    r"|server|source|src|dst|destination|peer|origin|egress|ingress|proxy|gateway|endpoint"
    r"|router|vpn|subnet|cidr|resolved|resolves|resolving|x-forwarded-for|remote)\b[^.;!?\n]{0,30}$"
)
# The word just before a number: a software name (TensorRT, onnxruntime, safety-filter)
# makes it a version; function words, verbs in -ed/-ing and nouns of networking do not.
PREVIOUS_WORD_RE = re.compile(r"([A-Za-z][\w+-]*)[\s:=]+$")
_ADDRESS_CONTEXT = """
    from to at by via and or of is was were are be as on in with for into onto than then
    the a an this that these those its their our his her new old same one two three
    address addresses ip ips host hosts user users client clients server servers peer peers
    attacker attackers node nodes proxy gateway endpoint machine device router vpn origin
    source src dst destination range subnet network exit tor home office residential
    also only both each every like e.g i.e see seen saw hit hits request requests traffic
    visitor visitors login logins connection connections session sessions
"""
ADDRESS_CONTEXT_WORDS = frozenset(_ADDRESS_CONTEXT.split())

TOKEN_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # providers that detect-secrets does not know
    ("Anthropic API key", re.compile(r"sk-ant-(?<![\w-]sk-ant-)(?:api|admin|sid)\d\d-[\w-]{20,}")),
    ("OpenAI-style API key", re.compile(r"sk-(?<![\w-]sk-)(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("GitHub token", re.compile(r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})")),
    ("Google API key", re.compile(r"(?<!\w)AIza[0-9A-Za-z_-]{35}")),
    ("Hugging Face token", re.compile(r"(?<!\w)hf_[A-Za-z0-9]{30,}")),
    # detect-secrets knows npm tokens only inside an .npmrc line (//registry/:_authToken=...)
    ("npm token", re.compile(r"(?<!\w)npm_[A-Za-z0-9]{36}(?!\w)")),
    ("Stripe key", re.compile(r"(?<!\w)(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    # detect-secrets' BasicAuthDetector needs a user name: redis://:password@host has none
    ("password in a URL", re.compile(r"://:([^\s/@:]{6,})@")),
)
# A value given to a key whose name says it is secret (YAML, env files, logs, prose).
# (DD_API_KEY, STRIPE_KEY: the name may continue a longer one, so a match starts at the
# secret word and is tried only where one occurs)
GENERIC_SECRET_RE = re.compile(
    r"(?i)(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?(?:access[_-]?)?key)?"
    r"|client[_-]?secret|private[_-]?key|token|password|passwd|pwd|passphrase|key)\b[\"']?\s*"
    r"(?:[:=]|\bis\b|\bwas\b)\s*[\"']?([^\s\"'`,;<>()\[\]{}]{8,})"
)
_SECRET_STARTS = ("api", "access", "secret", "client", "private", "token", "passw", "pwd", "key")
BEARER_RE = re.compile(r"(?i)bearer\s+([A-Za-z0-9_\-+/=.~]{20,})")
# A long run of letters and digits: random-looking ones are credentials in any context.
RANDOM_RUN_RE = re.compile(r"(?<![A-Za-z0-9_+/=.-])[A-Za-z0-9][A-Za-z0-9+/=]{19,}(?![\w+/-])")
PLACEHOLDER_RE = re.compile(r"(?i)redacted|example|placeholder|changeme|dummy|your[_-]|x{6,}|\*{4,}|\$\{|\{\{|<[a-z_-]+>")
# Every match of the detect-secrets patterns used below is, or sits next to, a token of
# 16 characters or more (a key, a password in a URL) holding a run of 16 letters and
# digits with both (AWS, GitHub, Stripe, Twilio, Discord, Mailchimp ...) or one of these
# literals; the exception is a private key header.
LIBRARY_LITERALS = (
    "gl", "GR1348941", "xox", "hooks.slack.com", "_authToken", "SG.", "sq0csp-", "pypi-", "AccountKey=",
    "eyJ", ":AA", "://", "PuTTY",
)
LONG_RUN_RE = re.compile(r"[A-Za-z0-9]{16,}")
BASIC_AUTH_HINT_RE = re.compile(r"://[^\s/@:]+:[^\s/@]+@")
_SHORT_RUN_LITERALS = (
    "glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-",
    "gr1348941", "xox", "sq0csp-", ":aa", "ibm",
)


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
        # Most records hold no number that could be a card, an SSN or an IPv4 address.
        self.numbers = NUMBERS_RE.search(text) is not None

    @functools.cached_property
    def alnum_run(self) -> bool:
        """Whether 16 letters and digits follow each other somewhere: every provider key and
        random-looking token holds such a run (looked for in bytes, at memory speed)."""
        return b"a" * 16 in self.text.encode("utf-8", "surrogatepass").translate(_ALNUM_TABLE)

    @functools.cached_property
    def word_run(self) -> bool:
        """Whether 20 letters, digits, '_' or '-' follow each other somewhere."""
        return b"a" * 20 in self.text.encode("utf-8", "surrogatepass").translate(_WORD_TABLE)

    @functools.cached_property
    def long_tokens(self) -> set[str]:
        """The whitespace-separated tokens of 16 characters or more."""
        return {token for token in self.text.split() if len(token) >= 16}

    @functools.cached_property
    def long_text(self) -> str:
        """The long tokens joined by spaces: a short text to look for literals in."""
        return " ".join(self.long_tokens)


def _byte_table(keep: bytes) -> bytes:
    return bytes(ord("a") if byte in keep else ord(" ") for byte in range(256))


_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM_TABLE = _byte_table(_ALNUM)
_WORD_TABLE = _byte_table(_ALNUM + b"_-")


def _occurrences(text: str, token: str) -> Iterator[int]:
    """Offsets of ``token`` in ``text`` as a whole whitespace-separated token."""
    for match in re.finditer(rf"(?<!\S){re.escape(token)}(?!\S)", text):
        yield match.start()


# Every match of SSN_RES[0], IPV4_RE, CARD_RE and PHONE_CANDIDATE_RE is a run of digits
# and separators like this one (ISO dates, the bulk of the digits in records, are not):
# when it finds nothing, those four need not run.
NUMBERS_RE = re.compile(r"[+(\d](?<![\w.-][+(\d])(?!\d{3}-\d\d-\d\d)[\d \t().\u00a0-]{5,}\d")


# A literal every match of a pattern contains: the pattern only runs when one is present.
_TOKEN_LITERALS = {
    "Anthropic API key": ("sk-ant-",), "OpenAI-style API key": ("sk-",),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "Google API key": ("AIza",),
    "Hugging Face token": ("hf_",), "npm token": ("npm_",),
    "Stripe key": ("_live_", "_test_"), "private key": ("PRIVATE KEY",),
    "password in a URL": ("://:",),
}
_SECRET_WORDS = ("key", "secret", "token", "passw", "pwd", "passphrase")
_PHONE_WORDS = ("phone", "tel", "mobile", "cell", "sms", "whatsapp", "call")
_SSN_WORDS = ("ssn", "social security")
_SSN_STARTS = _SSN_WORDS


def _present(text: str, literals: tuple[str, ...]) -> bool:
    return has_any(text, literals)


# --- credentials --------------------------------------------------------------------------

def _api_keys(scan: _Text) -> Iterator[_Hit]:
    line, lower = scan.text, scan.lower
    for name, pattern in TOKEN_RES:
        # a private key header has spaces, a password in a URL may be short; every other
        # token is one long token with a run of 16 letters and digits
        if name in ("private key", "password in a URL"):
            if not _present(line, _TOKEN_LITERALS[name]):
                continue
        elif not scan.alnum_run or not _present(scan.long_text, _TOKEN_LITERALS[name]):
            continue
        for match in pattern.finditer(line):
            group = 1 if pattern.groups else 0
            if PLACEHOLDER_RE.search(match.group(group)):
                continue
            yield _Hit("pii.api-key", match.start(group), match.end(group), f"{name} {_mask(match.group(group))}")
    if _library_hint(scan):
        yield from _library_secrets(line)
    if _present(lower, _SECRET_WORDS):
        for match in finditer_from(GENERIC_SECRET_RE, line, scan.folded, _SECRET_STARTS):
            value = match.group(1).rstrip(".")
            if _looks_secret(value, keyed=True, password="pass" in match.group().lower() or "pwd" in match.group().lower()):
                start = match.start(1)
                yield _Hit("pii.api-key", start, start + len(value), f"secret value {_mask(value)}")
    if "bearer" in lower:
        for match in finditer_from(BEARER_RE, line, scan.folded, ("bearer",)):
            value = match.group(1)
            if _looks_secret(value, keyed=True):
                yield _Hit("pii.api-key", match.start(1), match.end(1), f"bearer token {_mask(value)}")
    for token in scan.long_tokens if scan.alnum_run else ():
        if len(token) < 24:
            continue
        for match in RANDOM_RUN_RE.finditer(token):
            value = match.group()
            if len(value) >= 24 and _random_token(value):
                for offset in _occurrences(line, token):
                    start = offset + match.start()
                    yield _Hit("pii.api-key", start, start + len(value), f"random-looking token {_mask(value)}")


def _library_hint(scan: _Text) -> bool:
    """Whether the text holds something a detect-secrets pattern could match."""
    if "PRIVATE KEY" in scan.text or "PuTTY" in scan.text:
        return True
    if "://" in scan.text and BASIC_AUTH_HINT_RE.search(scan.text):
        return True  # a user and a password in a URL
    if not scan.alnum_run:
        # keys of [A-Za-z0-9_-] whose dashes may break every run of 16 (GitLab, Slack,
        # Square, Telegram, IBM Cloud) hold a run of 20 and a literal
        return scan.word_run and has_any(scan.lower, _SHORT_RUN_LITERALS)
    for token in scan.long_tokens:
        if has_any(token, LIBRARY_LITERALS):
            return True
        for match in LONG_RUN_RE.finditer(token):
            run = match.group()
            if run.isdigit() or run.isalpha() or _COMPACT_TIME_RE.fullmatch(run) or _GIT_ID_RE.fullmatch(run):
                continue  # a number, a word, a compact time, a git commit or a sha256 digest
            return True
    return False


_COMPACT_TIME_RE = re.compile(r"\d{8}T\d{4,6}Z?")
_GIT_ID_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


# detect-secrets plugins whose patterns are used; IPPublicDetector is left out (public IPs
# are pii.ip-address, with IPv6 and version strings handled here) and so is
# ArtifactoryDetector (its 'AP' + 9 characters reads ordinary product codes in prose).
_LIBRARY_PLUGINS = (
    ("aws", "AWSKeyDetector"), ("azure_storage_key", "AzureStorageKeyDetector"),
    ("basic_auth", "BasicAuthDetector"), ("cloudant", "CloudantDetector"),
    ("discord", "DiscordBotTokenDetector"), ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"), ("ibm_cloud_iam", "IbmCloudIamDetector"),
    ("ibm_cos_hmac", "IbmCosHmacDetector"), ("jwt", "JwtTokenDetector"),
    ("mailchimp", "MailchimpDetector"), ("npm", "NpmDetector"), ("openai", "OpenAIDetector"),
    ("private_key", "PrivateKeyDetector"), ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"), ("slack", "SlackDetector"), ("softlayer", "SoftlayerDetector"),
    ("square_oauth", "SquareOAuthDetector"), ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"), ("twilio", "TwilioKeyDetector"),
)


@dataclass(frozen=True)
class _Library:
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    jwt_valid: Callable[[str], bool]
    sequential: Callable[[str], bool]
    uuid: Callable[[str], bool]
    templated: Callable[[str], bool]


@functools.cache
def _library() -> _Library:
    """The detect-secrets patterns and filters, imported on first use (the import is slow)."""
    import importlib

    from detect_secrets.filters import heuristic
    from detect_secrets.plugins.jwt import JwtTokenDetector

    patterns: list[tuple[str, re.Pattern[str]]] = []
    for module, name in _LIBRARY_PLUGINS:
        plugin: Any = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
        patterns.extend((str(plugin.secret_type), pattern) for pattern in plugin.denylist)
    return _Library(
        tuple(patterns), JwtTokenDetector.is_formally_valid, heuristic.is_sequential_string,
        heuristic.is_potential_uuid, heuristic.is_templated_secret,
    )


def _library_secrets(text: str) -> Iterator[_Hit]:
    library = _library()
    for kind, pattern in library.patterns:
        for match in pattern.finditer(text):
            start, end = _secret_span(match)
            value = text[start:end]
            if len(value) < 6 or PLACEHOLDER_RE.search(value):
                continue
            if library.sequential(value) or library.uuid(value) or library.templated(value):
                continue
            if kind == "JSON Web Token" and not library.jwt_valid(value):
                continue
            yield _Hit("pii.api-key", start, end, f"{kind} {_mask(value)}")


def _secret_span(match: re.Match[str]) -> tuple[int, int]:
    """Where the secret is in a detect-secrets match: its value group when the pattern
    captures one (a password in a URL, a key after its name), else the whole match
    without the separators some patterns include."""
    for group in range(len(match.groups()), 0, -1):
        start, end = match.span(group)
        if start >= 0 and end - start >= 8:
            return start, end
    start, end = match.span()
    text = match.string
    while start < end and text[start] in " \t\"'=:":
        start += 1
    while end > start and text[end - 1] in " \t\"'\n":
        end -= 1
    return start, end


# --- e-mail, cards, SSNs --------------------------------------------------------------------

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


# --- phone numbers (libphonenumber) -------------------------------------------------------

def _phones(scan: _Text) -> Iterator[_Hit]:
    line = scan.text
    for match in PHONE_CANDIDATE_RE.finditer(line) if scan.numbers else ():
        found = _phone_in(match.group())
        if found is not None:
            start, end = match.start() + found[0], match.start() + found[1]
            digits = re.sub(r"\D", "", line[start:end])
            yield _Hit("pii.phone", start, end, f"ending {digits[-2:]}")
    if scan.numbers and _present(scan.lower, _PHONE_WORDS):
        for match in finditer_from(PHONE_WORDED_RE, line, scan.folded, _PHONE_WORDS):
            value = match.group(1)
            digits = re.sub(r"\D", "", value)
            if 8 <= len(digits) <= 15 and (value.startswith("+") or len(digits) >= 10):
                yield _Hit("pii.phone", match.start(1), match.end(1), f"ending {digits[-2:]}")


@functools.lru_cache(maxsize=4096)
def _phone_in(raw: str) -> tuple[int, int] | None:
    """The span of a phone number in the candidate ``raw``, as libphonenumber reads it."""
    raw = raw.rstrip(" \t\u00a0.-(")
    digits = sum(char.isdigit() for char in raw)
    if not 7 <= digits <= 17 or not any(char in raw for char in " \t\u00a0.-()+"):
        return None  # a bare run of digits is an id, a count or a seed unless announced
    if any(pattern.fullmatch(raw) or pattern.match(raw) for pattern in NOT_PHONE_RES):
        return None
    import phonenumbers

    if raw.startswith("00") and raw[2:3] in ("0", ""):
        return None  # 000-12-3456: no country starts with 0
    if raw.startswith(("+", "00")):
        # international form: any region; a number of a possible length for its country
        region = "DE" if raw.startswith("00") else None  # DE: a region that dials out with 00
        for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
            for number in phonenumbers.PhoneNumberMatcher(raw, region, leniency=leniency):
                if number.start == 0:
                    return number.start, number.end
        return None
    national = raw.removeprefix("(")
    if national.startswith("0") and national[1:2].isdigit():
        # national form with a trunk prefix: a valid number of a region that dials so
        for region in _trunk_zero_regions():
            try:
                parsed = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                return None
            if phonenumbers.is_valid_number_for_region(parsed, region):
                return 0, len(raw)
        return None
    if NANP_RE.fullmatch(raw):
        try:
            parsed = phonenumbers.parse(raw, "US")
        except phonenumbers.NumberParseException:
            return None
        return (0, len(raw)) if phonenumbers.is_valid_number(parsed) else None
    return None


@functools.cache
def _trunk_zero_regions() -> tuple[str, ...]:
    """Regions whose national numbers are dialled with a leading 0, most used first."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    first = ("GB", "DE", "FR", "IN", "JP", "AU", "NL", "IT", "ES", "BR", "CN", "KR", "ZA", "NG", "KE")
    regions = sorted(
        region for region in phonenumbers.SUPPORTED_REGIONS
        if (meta := PhoneMetadata.metadata_for_region(region)) is not None and meta.national_prefix == "0"
    )
    return tuple(region for region in first if region in regions) + tuple(r for r in regions if r not in first)


# --- IP addresses --------------------------------------------------------------------------

def _ips(scan: _Text) -> Iterator[_Hit]:
    line = scan.text
    if scan.numbers:
        for match in IPV4_RE.finditer(line):
            try:
                address = ipaddress.IPv4Address(match.group())
            except ValueError:
                continue
            if not address.is_global or _version_number(line, match.start()):
                continue
            octets = match.group().split(".")
            yield _Hit("pii.ip-address", match.start(), match.end(), f"{octets[0]}.x.x.x")
    if "::" in line or IPV6_GATE_RE.search(line):
        for match in IPV6_RE.finditer(line):
            try:
                address6 = ipaddress.IPv6Address(match.group())
            except ValueError:
                continue
            if address6.is_global:
                shown = match.group().split(":", 1)[0]
                yield _Hit("pii.ip-address", match.start(), match.end(), f"{shown}:…")


_NUMBER_DOT_RE = re.compile(r"(?<=\d)\.(?=\d)")


def _version_number(text: str, start: int) -> bool:
    """Whether the four-part number at ``start`` is a version (``driver 5.1.2.9``), not an address."""
    # the dots of an earlier number (from 5.1.2.9 to ...) do not end the clause
    before = _NUMBER_DOT_RE.sub(",", text[max(0, start - 60) : start])
    if IP_WORDS_RE.search(before):
        return False
    if VERSION_BEFORE_RE.search(before):
        return True
    word = PREVIOUS_WORD_RE.search(before)
    if word is None:
        return False
    # a software name (a product word, CamelCase, a name with digits, '-' or '_'), not a
    # function word, a verb or a word of networking
    name = word.group(1).lower()
    return name not in ADDRESS_CONTEXT_WORDS and not name.endswith(("ed", "ing"))


# Most specific first: a secret that contains digits is not also a phone number.
SCANNERS: tuple[Callable[[_Text], Iterator[_Hit]], ...] = (
    _api_keys, _emails, _cards, _ssns, _ips, _phones,
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


def _looks_secret(value: str, *, keyed: bool = False, password: bool = False) -> bool:
    """A random-looking value, not an identifier such as ``regression_INC_001_v2``.

    ``password``: the key names a password, which people choose: eight characters of at
    least three kinds (lower, upper, digits, symbols) are enough.
    """
    if PLACEHOLDER_RE.search(value) or value.startswith(("$", "%", "{", "<")):
        return False
    if password:
        kinds = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
        if len(value) >= 8 and kinds >= 3 and not re.fullmatch(r"[A-Za-z]+[-_][A-Za-z0-9_-]+", value):
            return True
    if keyed and re.fullmatch(r"[0-9a-f]{32,64}", value) and len(value) not in (40, 64):
        return _entropy(value) >= 3.0  # a hex key given to a secret-named key (not a git id)
    # Identifiers are short words joined by _ - . ; secrets have one long random run.
    run = max(re.split(r"[_.-]", value), key=len)
    if len(run) < 16:
        return False
    classes = sum(bool(re.search(pattern, run)) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2 and _entropy(run) >= 3.5


def _random_token(value: str) -> bool:
    """A run of 24+ letters and digits of all three kinds with high entropy: a key, not a word or id."""
    if PLACEHOLDER_RE.search(value):
        return False
    # a word run into an id ("Commit" + a git hash, as a search index joins a table's cells)
    core = _EDGE_WORDS_RE.sub("", value.rstrip("="))
    if len(core) < 20:
        return False
    if not (re.search(r"[a-z]", core) and re.search(r"[A-Z]", core) and re.search(r"[0-9]", core)):
        return False
    if re.search(r"[a-z]{7,}|[A-Z]{9,}", core):
        return False  # holds a word: CamelCase names, base64 of text
    if sum(len(word) for word in _WORDLIKE_RE.findall(core)) >= 0.6 * len(core):
        return False  # words run together, as a page's search index or a table header joins them
    return _entropy(core) >= 4.0


_WORDLIKE_RE = re.compile(r"[A-Z]?[a-z]{3,}")
_EDGE_WORDS_RE = re.compile(r"^(?:[A-Z][a-z]{2,})+|(?:[A-Z][a-z]{2,})+$")


def _entropy(value: str) -> float:
    counts = {char: value.count(char) for char in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 6 else value[:1] + "…"
