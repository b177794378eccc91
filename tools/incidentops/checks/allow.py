"""Documented inline exceptions shared by the text checks (PII, blameless language).

An exception names the rules it silences and must say why::

    # incidentops: allow pii.email -- press contact published on the company site
    <!-- incidentops: allow blameless.root-cause -- quoting the seed's anti-pattern table -->

It covers its own line and the next one. Without a ``-- reason`` it silences nothing
and is reported as ``<family>.allow-without-reason``; a rule name the check does not
know is reported as ``<family>.allow-unknown-rule``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from incidentops.records.findings import WARNING, Finding

ALLOW_RE = re.compile(r"(?:#|<!--)\s*incidentops:\s*allow\b(?P<body>.*?)(?:-->|$)")


@dataclass
class Allows:
    """The exceptions of one file for one family of rules (``pii`` or ``blameless``)."""

    by_line: dict[int, set[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def allowed(self, line: int, rule: str) -> bool:
        """True when ``rule`` is silenced on ``line`` (by that line or the one above)."""
        return rule in self.by_line.get(line, set()) or rule in self.by_line.get(line - 1, set())


def scan_allows(
    lines: Sequence[str],
    path: str,
    first_line: int,
    family: str,
    known_rules: Collection[str],
    level: str,
) -> Allows:
    """Collect the ``incidentops: allow`` comments that name rules of ``family``."""
    allows = Allows()
    prefix = family + "."
    for index, line in enumerate(lines):
        number = first_line + index
        for match in ALLOW_RE.finditer(line):
            rules, _, reason = match.group("body").partition("--")
            names = [n for n in re.split(r"[\s,]+", rules) if n.startswith(prefix)]
            if not names:
                continue
            col = match.start() + 1
            if not reason.strip():
                allows.findings.append(
                    Finding(
                        path, number, col, level, f"{family}.allow-without-reason",
                        f"'incidentops: allow {', '.join(names)}' has no reason,"
                        " so it allows nothing",
                        f"document why: `# incidentops: allow {names[0]} -- <reason>`",
                    )
                )
                continue
            for name in names:
                if name not in known_rules:
                    close = difflib.get_close_matches(name, list(known_rules), n=1)
                    suggestion = f"did you mean {close[0]}? " if close else ""
                    allows.findings.append(
                        Finding(
                            path, number, col, WARNING, f"{family}.allow-unknown-rule",
                            f"'incidentops: allow {name}' names no {family} rule",
                            f"{suggestion}known rules: {', '.join(known_rules)}",
                        )
                    )
                allows.by_line.setdefault(number, set()).add(name)
    return allows
