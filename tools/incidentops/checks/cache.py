"""Findings of the text checks kept between runs, in ``.incidentops-cache/`` under the registry root.

The blameless-language lint and the PII scan read nothing but a record's own text (the
PII scan also whether the record is public), and they are most of the time a check
takes. For a file whose text has not changed since the last run, their findings are
read back instead of computed again, the way ruff and mypy cache per-file results.
Every other rule runs every time.

An entry is used only when everything it was computed from is the same: the file's
content (a BLAKE2 digest), the record's visibility (PII), the incidentops version, the
source of the modules that produce those findings, and the policy. The file is JSON,
never pickle (the folder could arrive through Git from anyone); a missing, unreadable,
malformed or stale file is an empty cache. It is written atomically, and a registry
that cannot be written to simply runs without it. The folder holds its own
``.gitignore``, so it never shows up in ``git status``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from incidentops import __version__
from incidentops.findings import Finding
from incidentops.fsio import write_text_atomic

#: the key of a run's ResultCache in ``CheckContext.cache`` (the text rules look it up there)
RESULT_CACHE = "text.result-cache"
CACHE_DIR = ".incidentops-cache"
CACHE_FILE = "text-checks.json"
FORMAT = 1
#: the modules whose code decides the cached findings: a change to any of them empties the cache
SOURCES = (
    "incidentops.yamlio",
    "incidentops.checks.allow",
    "incidentops.checks.blameless",
    "incidentops.checks.first_names",
    "incidentops.checks.pii",
    "incidentops.checks.text_rules",
    "incidentops.checks.textscan",
    "incidentops.checks.cache",
)

Entry = tuple[str, str, list[Finding]]  # content digest, variant, findings


def digest(text: str) -> str:
    """Content digest of a record's text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def salt(policy: Any) -> str | None:
    """What every entry depends on besides the file: version, checking code, policy.

    None when the code cannot be read (then nothing is cached).
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}\0{__version__}\0".encode())
    for name in SOURCES:
        module = sys.modules.get(name)
        source = getattr(module, "__file__", None)
        if not source:
            return None
        try:
            h.update(Path(source).read_bytes())
        except OSError:
            return None
    h.update(json.dumps(policy, sort_keys=True, default=str).encode())
    return h.hexdigest()


class ResultCache:
    """Cached findings by (rule, file); new results are collected for saving."""

    def __init__(self, root: Path, salt: str) -> None:
        self.root = root
        self.salt = salt
        # entries as read from the file, checked only when used (a check of one file
        # should not pay for validating the whole registry's entries)
        self.stored: dict[str, Any] = {}
        self.new: dict[str, Entry] = {}
        self._last: tuple[str, str] = ("", digest(""))  # the last text digested, and its digest

    @property
    def file(self) -> Path:
        return self.root / CACHE_DIR / CACHE_FILE

    @classmethod
    def load(cls, root: Path, salt: str) -> ResultCache:
        """The cache of ``root``; empty when absent, unreadable, malformed or made with another salt."""
        cache = cls(root, salt)
        try:
            raw = json.loads(cache.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cache
        if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("salt") != salt:
            return cache
        entries = raw.get("entries")
        if isinstance(entries, dict):
            cache.stored = entries
        return cache

    def _digest(self, text: str) -> str:
        # the rules of one file run one after the other: digest its text once
        if self._last[0] is not text:
            self._last = (text, digest(text))
        return self._last[1]

    def get(self, rule: str, path: str, text: str, variant: str = "") -> list[Finding] | None:
        """The findings of ``rule`` on ``path`` computed from this very ``text``, if cached."""
        key = f"{rule}\0{path}"
        entry = self.new.get(key)
        if entry is None:
            entry = _entry(key, self.stored.get(key))
        if entry is None or entry[1] != variant or entry[0] != self._digest(text):
            return None
        return list(entry[2])

    def put(self, rule: str, path: str, text: str, variant: str, findings: Iterable[Finding]) -> None:
        self.new[f"{rule}\0{path}"] = (self._digest(text), variant, list(findings))

    def take_new(self) -> dict[str, Entry]:
        """The entries added since the last call (a worker sends them to the parent)."""
        new, self.new = self.new, {}
        return new

    def merge(self, entries: dict[str, Entry]) -> None:
        self.new.update(entries)

    def save(self, keep: Iterable[str] | None = None) -> bool:
        """Write the cache atomically; ``keep`` (paths) drops entries of files no longer checked.

        Returns False when the folder cannot be written (the check goes on without a cache).
        """
        rows = dict(self.stored)
        for key, entry in self.new.items():
            rows[key] = [entry[0], entry[1], [_finding_row(f) for f in entry[2]]]
        if keep is not None:
            wanted = set(keep)
            rows = {key: row for key, row in rows.items() if key.partition("\0")[2] in wanted}
        if not self.new and len(rows) == len(self.stored):
            return True  # nothing changed
        payload = {"format": FORMAT, "salt": self.salt, "entries": rows}
        folder = self.root / CACHE_DIR
        try:
            folder.mkdir(exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():
                write_text_atomic(ignore, "# written by incidentops check: a local cache, never committed\n*\n")
            write_text_atomic(self.file, json.dumps(payload, separators=(",", ":")))
        except OSError:
            return False
        self.stored, self.new = rows, {}
        return True


def _finding_row(finding: Finding) -> list[Any]:
    return [finding.line, finding.col, finding.level, finding.rule, finding.message, finding.hint]


def _entry(key: Any, value: Any) -> Entry | None:
    """A well-formed entry, or None (a malformed one is ignored, never trusted)."""
    if not isinstance(key, str) or "\0" not in key or not isinstance(value, list) or len(value) != 3:
        return None
    content, variant, rows = value
    if not isinstance(content, str) or not isinstance(variant, str) or not isinstance(rows, list):
        return None
    path = key.partition("\0")[2]
    findings: list[Finding] = []
    for row in rows:
        if not (
            isinstance(row, list) and len(row) == 6
            and all(isinstance(x, int) and not isinstance(x, bool) for x in row[:2])
            and all(isinstance(x, str) for x in row[2:])
        ):
            return None
        findings.append(Finding(path, row[0], row[1], row[2], row[3], row[4], row[5]))
    return content, variant, findings
