"""What the release gate reads from and writes to a registry.

It reads the regression records, refusing to judge a release against records
that do not validate: a typo such as ``state: ACTlVE`` must stop the gate, not
quietly drop a blocking test. It writes a gate decision as
``releases/<name>.yaml``: validated first, written atomically, never over an
existing record, and only for a registry whose records are committed: the
record names the commit it judged, so that commit must hold what was judged.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import create_text_exclusive
from incidentops.records.gitops import uncommitted
from incidentops.records.kinds import kind_of
from incidentops.records.model import Policy, RegressionTest
from incidentops.records.registry import POLICY_FILE, Registry
from incidentops.records.schemas import load_schema
from incidentops.records.validate import validate
from incidentops.records.yamlio import load_bytes

RELEASES_DIR = "releases"
#: what the gate reads from the registry (and the release records): it judges these as HEAD holds them;
#: scenarios/ holds turns of the tests the runners played (the suite export reads them)
JUDGED_PATHS = ("incidents", "regressions", "scenarios", POLICY_FILE, "models.yaml")
_RECORD_SUFFIXES = (".yaml", ".yml", ".md")
_STATUS_WORDS = {"??": "untracked", "!!": "ignored by git"}
MODELINE = "# yaml-language-server: $schema=../schemas/release.schema.json\n"
_SHOWN_ERRORS = 3


def gate_policy(registry: Registry) -> Policy:
    """The policy the gate applies; an invalid incidentops.yaml is refused, not replaced by defaults.

    The registry falls back to the built-in policy when incidentops.yaml does not
    validate; for a release decision that fallback could quietly drop a blocking
    state, so the gate stops instead.
    """
    doc = registry.doc(POLICY_FILE)
    errors = [f for f in doc.findings if f.is_error] if doc is not None else []
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise IncidentOpsError(
            f"invalid policy: {first.location()}: {first.message}{more}",
            f"the gate applies the policy's blocking states; run `incidentops check {POLICY_FILE}` and fix it",
        )
    if doc is not None and registry.typed(Policy, POLICY_FILE) is None:  # pragma: no cover - schema and model agree
        raise IncidentOpsError(f"invalid policy: {POLICY_FILE} does not read as a policy",
                               f"run `incidentops check {POLICY_FILE}` and fix it")
    return registry.policy_record


def regression_records(registry: Registry) -> list[RegressionTest]:
    """Every regression test record, archived (RETIRED) ones included, sorted by test id.

    Raises :class:`IncidentOpsError` naming ``path:line:col`` when a record does
    not parse or validate, or when two files share a test id.
    """
    records: list[RegressionTest] = []
    problems: list[str] = []
    for test_id, paths in sorted(registry.test_paths.items()):
        if len(paths) > 1:
            problems.append(f"{paths[1]}: test id {test_id} is also used by {paths[0]}")
            continue
        doc = registry.doc(paths[0])
        if doc is None:
            continue
        errors = [f for f in doc.findings if f.is_error]
        test = registry.typed(RegressionTest, paths[0])
        if errors:
            problems.extend(f"{f.location()}: {f.message}" for f in errors)
        elif test is not None:
            records.append(test)
        else:
            problems.append(f"{paths[0]}:1:1: the file holds no regression record")
    if problems:
        more = f" (and {len(problems) - _SHOWN_ERRORS} more)" if len(problems) > _SHOWN_ERRORS else ""
        raise IncidentOpsError(
            "invalid regression records: " + "; ".join(problems[:_SHOWN_ERRORS]) + more,
            "the gate only judges valid records: run `incidentops check regressions` and fix them",
        )
    return records


def _status_word(code: str) -> str:
    if code in _STATUS_WORDS:
        return _STATUS_WORDS[code]
    return "deleted" if "D" in code else "added" if "A" in code else "modified"


def require_committed(root: Path) -> None:
    """Refuse to record a decision while the records it judges differ from HEAD.

    A release record names ``git rev-parse HEAD``; judging uncommitted records
    would put a decision on a commit that never held them. Every file under
    incidents/, regressions/ and scenarios/, the policy and models.yaml must be as HEAD has
    them (untracked and ignored record files count), and no committed release
    record may be edited or deleted. Outside a git checkout there is no commit
    to name and nothing to compare.
    """
    changed = uncommitted(root, JUDGED_PATHS)
    if changed is None:
        return
    relevant = [(code, path) for code, path in changed
                if code not in _STATUS_WORDS or path.endswith(_RECORD_SUFFIXES)]
    # release records are append-only: an edited or deleted one is a change; a new one not committed yet is not
    relevant += [(code, path) for code, path in uncommitted(root, (RELEASES_DIR,)) or []
                 if code not in _STATUS_WORDS]
    if not relevant:
        return
    listed = ", ".join(f"{path} ({_status_word(code)})" for code, path in relevant[:_SHOWN_ERRORS])
    more = f" and {len(relevant) - _SHOWN_ERRORS} more" if len(relevant) > _SHOWN_ERRORS else ""
    raise IncidentOpsError(
        f"--record: the registry's records differ from the commit a release record would name (HEAD): {listed}{more}",
        "commit the changes first, then gate and record again (a release record must name the commit that "
        "holds exactly what was judged); or run the gate without --record",
    )


def release_path(root: Path, path: Path) -> str:
    """``path`` (relative to the registry ``root``, or absolute) as ``releases/<name>.yaml``.

    Raises :class:`IncidentOpsError` when it is not a release record path of the
    registry or when a record is already there: a decision is never overwritten.
    """
    base = root.resolve()
    full = (path if path.is_absolute() else base / path).resolve()
    try:
        rel = full.relative_to(base).as_posix()
    except ValueError:
        rel = ""
    kind = kind_of(rel) if rel else None
    if kind is None or kind.name != "release":
        raise IncidentOpsError(
            f"--record {path}: a release record lives in {RELEASES_DIR}/<name>.yaml of the registry ({base})",
            f"give a path such as {RELEASES_DIR}/aurora-3.1.yaml, relative to the registry root",
        )
    name = record_name(rel)
    if not _name_pattern().fullmatch(name):
        raise IncidentOpsError(
            f"--record {path}: {name!r} is not a record name",
            "use letters, digits, '.', '-' and '_', starting with a letter or digit, e.g. releases/aurora-3.1.yaml",
        )
    if full.exists():
        raise IncidentOpsError(
            f"{rel} already exists: a recorded gate decision is never overwritten",
            "record this run under a new name, e.g. with the date or the candidate's version",
        )
    return rel


@cache
def _name_pattern() -> re.Pattern[str]:
    """The schema's pattern for a record name (the file name without .yaml)."""
    schema = load_schema("release") or {}
    pattern = schema.get("properties", {}).get("name", {}).get("pattern", r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    return re.compile(str(pattern))


def record_name(relpath: str) -> str:
    """The record's ``name``: its file name without ``.yaml``."""
    return relpath.rsplit("/", 1)[-1].removesuffix(".yaml")


class _Dumper(yaml.SafeDumper):
    """Plain YAML without anchors: the record loader refuses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # lists indented under their key, as in every other record
        super().increase_indent(flow, False)


def release_text(data: dict[str, Any]) -> str:
    """The record as YAML, starting with the editor's schema modeline."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return MODELINE + body


def write_release_record(root: Path, relpath: str, data: dict[str, Any]) -> None:
    """Write ``data`` to ``root/relpath`` after validating the exact text written.

    The file appears complete or not at all (written aside, then hard-linked into
    place, which fails rather than replace a record that appeared meanwhile).
    """
    text = release_text(data)
    doc = load_bytes(text.encode("utf-8"), relpath)
    errors = [f for f in (*doc.findings, *validate(doc, "release")) if f.is_error]
    if errors:
        first = errors[0]
        raise IncidentOpsError(f"the release record is invalid: {first.location()}: {first.message}", first.hint)
    create_text_exclusive(
        root / relpath, text, "a recorded gate decision is never overwritten: record this run under a new name"
    )
