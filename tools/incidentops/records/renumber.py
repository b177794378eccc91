"""Provisional ids, and the renumbering that gives them permanent ones after merge.

Two responders on two branches would both take the next free id (``INC_004``) and
collide at merge. So a record declared on a branch may carry a *provisional* id, unique
by construction (a random token): ``INC_NEW_3f9a2c`` for an incident (its test is then
``regression_INC_NEW_3f9a2c``), ``regression_INC_001_NEW_3f9a2c`` for another test of an
existing incident. Once merged, :func:`plan` on main gives each one the next free id
(``INC_005``; ``regression_INC_001_2``) and :func:`apply` renames the files and rewrites
every reference in one all-or-nothing change, staged for a single commit.

The same machinery turns a permanent id that collided (the base took ``INC_004`` first)
back into a provisional one on the branch (:func:`plan_provisional`).

Numbers are never reused: the next free number is above every ``INC_<n>`` that appears
anywhere in the registry's records (archived tests, audit entries and release records
included). Audit entries and release records are append-only: a provisional id in them
is refused (an audit entry) or left as recorded and listed (a release record).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import (
    FsProblem,
    read_registry_file,
    scan_registry_dir,
    write_text_atomic,
)
from incidentops.records.kinds import valid_id
from incidentops.records.yamlio import MAX_BYTES

PROVISIONAL_INCIDENT = re.compile(r"INC_NEW_[a-z0-9]{1,32}")
#: a test's own provisional suffix (a test of an incident that already has one)
PROVISIONAL_TEST = re.compile(r"(regression_[A-Za-z0-9_]*?)(?<!_INC)_NEW_([a-z0-9]{1,32})")
_NUMBER = re.compile(r"(?<![A-Za-z0-9])INC_([0-9]{3,})(?![0-9])")
#: folders whose records are rewritten; audit/ and releases/ are append-only
REWRITTEN = ("incidents", "regressions", "reviews", "scenarios")
APPEND_ONLY = ("audit", "releases")


def new_token() -> str:
    return secrets.token_hex(3)


def provisional_incident_id() -> str:
    """A fresh provisional incident id, such as ``INC_NEW_3f9a2c``."""
    return f"INC_NEW_{new_token()}"


def is_provisional(record_id: str) -> bool:
    return bool(PROVISIONAL_INCIDENT.search(record_id) or PROVISIONAL_TEST.fullmatch(record_id))


def _incident_pattern(old: str) -> re.Pattern[str]:
    # inside a test id (regression_INC_NEW_x) the id follows an underscore: letters and digits bound it
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])")


def _test_pattern(old: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(old)}(?![A-Za-z0-9_])")


@dataclass
class Plan:
    """What a renumbering does: ids replaced, files moved, files rewritten, records left as recorded."""

    incidents: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    moves: list[tuple[str, str]] = field(default_factory=list)
    writes: dict[str, str] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)
    #: path written -> the path it was read from (before the moves)
    sources: dict[str, str] = field(default_factory=dict)
    left_as_recorded: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.incidents and not self.tests

    def rewrite(self, text: str) -> str:
        for old, new in self.incidents.items():
            text = _incident_pattern(old).sub(new, text)
        for old, new in self.tests.items():
            text = _test_pattern(self._after_incidents(old)).sub(new, text)
        return text

    def _after_incidents(self, test_id: str) -> str:
        for old, new in self.incidents.items():
            test_id = _incident_pattern(old).sub(new, test_id)
        return test_id


# --- reading the registry ---------------------------------------------------------------


def _files(root: Path, folder: str) -> Iterable[str]:
    """Every regular file below ``folder`` (recursively); links and special files are refused."""
    try:
        entries = scan_registry_dir(root, folder)
    except FsProblem as problem:
        raise IncidentOpsError(f"{root / problem.path}: {problem.message}", problem.hint) from None
    for entry in entries:
        rel = f"{folder}/{entry.name}"
        if entry.kind == "dir":
            yield from _files(root, rel)
        elif entry.kind == "file":
            yield rel
        else:
            raise IncidentOpsError(f"{root / rel}: refusing to renumber: it is a {entry.kind}, not a record file",
                                   "records are regular files inside the registry: replace it with the file")


def _texts(root: Path, folders: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for folder in folders:
        for rel in _files(root, folder):
            try:
                raw = read_registry_file(root, rel, MAX_BYTES)
            except FsProblem as problem:
                raise IncidentOpsError(f"{root / problem.path}: {problem.message}", problem.hint) from None
            if raw is not None:
                out[rel] = raw.decode("utf-8", "surrogateescape")
    return out


def _taken_numbers(texts: dict[str, str], names: Iterable[str]) -> set[int]:
    found = {int(m.group(1)) for text in texts.values() for m in _NUMBER.finditer(text)}
    found |= {int(m.group(1)) for name in names for m in _NUMBER.finditer(name)}
    return found


def _test_ids(paths: Iterable[str]) -> set[str]:
    return {p.rsplit("/", 1)[1].removesuffix(".yaml") for p in paths
            if p.startswith("regressions/") and p.endswith(".yaml")}


def _detected(text: str) -> str:
    found = re.search(r"^detected_at:\s*[\"']?([^\"'\s#]+)", text, re.M)
    return found.group(1) if found else "~"


# --- plans --------------------------------------------------------------------------------


def plan(root: Path) -> Plan:
    """Give every provisional id of the registry the next free permanent id."""
    texts = _texts(root, (*REWRITTEN, *APPEND_ONLY))
    folders = sorted({p.split("/")[1] for p in texts if p.startswith("incidents/") and p.count("/") >= 2})
    provisional = [f for f in folders if PROVISIONAL_INCIDENT.fullmatch(f)]
    # in the order the incidents were detected (then by id): the registry reads in time order
    provisional.sort(key=lambda f: (_detected(texts.get(f"incidents/{f}/incident.yaml", "")), f))
    result = Plan()
    taken = _taken_numbers(texts, texts)
    number = max(taken, default=0)
    for old in provisional:
        number += 1
        result.incidents[old] = f"INC_{number:03d}"
    tests = _test_ids(texts)
    used = {result._after_incidents(t) for t in tests}
    for test_id in sorted(tests):
        current = result._after_incidents(test_id)
        found = PROVISIONAL_TEST.fullmatch(current)
        if found is None:
            if current != test_id:
                result.tests[test_id] = current
            continue
        stem = found.group(1)
        suffix = 2
        while f"{stem}_{suffix}" in used:
            suffix += 1
        used.add(f"{stem}_{suffix}")
        result.tests[test_id] = f"{stem}_{suffix}"
    return _finish(root, result, texts)


def plan_provisional(root: Path, record_id: str) -> Plan:
    """Give the record ``record_id`` a provisional id again (a branch whose id the base took first)."""
    texts = _texts(root, (*REWRITTEN, *APPEND_ONLY))
    result = Plan()
    if valid_id("incident", record_id) and not PROVISIONAL_INCIDENT.fullmatch(record_id):
        if f"incidents/{record_id}/incident.yaml" not in texts:
            raise IncidentOpsError(f"there is no incident {record_id} (incidents/{record_id}/incident.yaml)",
                                   "give the id of an incident or regression test of this registry")
        result.incidents[record_id] = provisional_incident_id()
        for test_id in sorted(_test_ids(texts)):
            moved = result._after_incidents(test_id)
            if moved != test_id:
                result.tests[test_id] = moved
    elif valid_id("test", record_id) and not is_provisional(record_id):
        if record_id not in _test_ids(texts):
            raise IncidentOpsError(f"there is no regression test {record_id} in regressions/",
                                   "give the id of an incident or regression test of this registry")
        result.tests[record_id] = f"{record_id}_NEW_{new_token()}"
    else:
        raise IncidentOpsError(f"{record_id!r} is not a permanent incident or test id",
                               "give an id such as INC_004 or regression_INC_004")
    return _finish(root, result, texts)


def _finish(root: Path, result: Plan, texts: dict[str, str]) -> Plan:
    if result.empty:
        return result
    for rel, text in sorted(texts.items()):
        new = result.rewrite(text)
        if new == text:
            continue
        if rel.split("/", 1)[0] == "audit":
            raise IncidentOpsError(
                f"{rel} names a provisional id: audit entries are never edited, so it cannot be renumbered",
                "a record gets its permanent id before any lifecycle ceremony: revert the ceremony,"
                " run `incidentops renumber`, then run it again")
        if rel.split("/", 1)[0] == "releases":
            result.left_as_recorded.append(rel)
            continue
        result.originals[rel] = text
        result.writes[_moved_path(result, rel)] = new
        result.sources[_moved_path(result, rel)] = rel
    for old, new in result.incidents.items():
        result.moves.append((f"incidents/{old}", f"incidents/{new}"))
    for old, new in result.tests.items():
        for rel in texts:
            if rel in (f"regressions/{old}.yaml", f"regressions/archive/{old}.yaml"):
                result.moves.append((rel, rel.rsplit("/", 1)[0] + f"/{new}.yaml"))
    for _old, new_rel in result.moves:
        if os.path.lexists(root / new_rel):
            raise IncidentOpsError(f"{new_rel} exists already: renumbering never overwrites a record",
                                   "run `incidentops check` and resolve the duplicate first")
    for new_id in (*result.incidents.values(), *result.tests.values()):
        what = "incident" if new_id.startswith("INC_") else "test"
        if not valid_id(what, new_id):  # pragma: no cover - built from validated parts
            raise IncidentOpsError(f"renumbering would make the invalid {what} id {new_id!r}")
    return result


def _moved_path(result: Plan, rel: str) -> str:
    parts = rel.split("/")
    if parts[0] == "incidents" and len(parts) >= 3:
        parts[1] = result.incidents.get(parts[1], parts[1])
    elif parts[0] == "regressions" and parts[-1].endswith(".yaml"):
        test_id = parts[-1].removesuffix(".yaml")
        parts[-1] = result.tests.get(test_id, test_id) + ".yaml"
    return "/".join(parts)


# --- applying a plan ------------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "--literal-pathspecs", *args], cwd=root, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"}, check=False)


def in_git(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree."""
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
    except OSError:
        return False


def _require_clean(root: Path, paths: Iterable[str]) -> None:
    from incidentops.records.gitops import uncommitted

    dirty = uncommitted(root, sorted(set(paths)))
    if dirty:
        listed = ", ".join(path for _code, path in dirty[:5])
        raise IncidentOpsError(
            f"uncommitted changes in the records to renumber: {listed}{' ...' if len(dirty) > 5 else ''}",
            "commit or stash them first: a renumbering is one change of its own, easy to review and to undo")


def _rename(root: Path, old: str, new: str) -> None:
    source, target = root / old, root / new
    info = os.lstat(source)
    if stat.S_ISLNK(info.st_mode) or not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        raise IncidentOpsError(f"{source}: refusing to move it: not a regular file or folder",
                               "records are regular files inside the registry")
    if os.path.lexists(target):
        raise IncidentOpsError(f"{new} exists already: renumbering never overwrites a record")
    os.rename(source, target)


def apply(root: Path, result: Plan) -> list[str]:
    """Carry out ``result``: all of it or (on any failure, Ctrl-C included) none of it.

    In a git checkout the records must be committed first, and the change is staged
    (renames included) so that it is committed as one. Returns the paths changed.
    """
    if result.empty:
        return []
    git = in_git(root)
    touched = sorted({*result.originals, *(old for old, _ in result.moves)})
    if git:
        _require_clean(root, touched)
    undo: list[tuple[str, str, str | None]] = []
    try:
        for old, new in result.moves:
            _rename(root, old, new)
            undo.append(("move", old, new))
        for rel, text in result.writes.items():
            write_text_atomic(root / rel, text, root=root)
            undo.append(("write", rel, result.originals[result.sources[rel]]))
    except BaseException:
        for action, first, second in reversed(undo):
            if action == "write" and second is not None:
                write_text_atomic(root / first, second, root=root)
            elif action == "move" and second is not None:
                os.rename(root / second, root / first)
        raise
    changed = sorted({*result.writes, *(new for _, new in result.moves), *(old for old, _ in result.moves)})
    if git:
        proc = _git(root, "add", "-A", "--", *changed)
        if proc.returncode != 0:
            raise IncidentOpsError(f"the ids were renumbered, but `git add` failed: {proc.stderr.strip()}",
                                   f"stage the changes yourself: git add -A -- {' '.join(changed)}")
    return changed
