"""Rules of the retirement ceremony: a ceremony left half done, told from the records alone.

A ceremony killed between its steps (see lifecycle.py) leaves one of a few
states, each found here from the files themselves, never from tool state:

- an audit entry retires a test that is still DEPRECATED (in ``regressions/``,
  or already moved into ``regressions/archive/``);
- a RETIRED test in the archive without its audit entry;
- the archived test or its audit entry staged differently from the working
  tree, or one staged and the other not: ``check`` reads the working tree, a
  commit records the index, so the commit would hold another retirement;
- a second RETIRE_REGRESSION audit entry for one test.

Each finding names the one command that finishes the ceremony
(``incidentops lifecycle retire --resume TEST``) or takes it back (``--undo``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from incidentops.lifecycle.ceremony import (
    ARCHIVE_DIR,
    AUDIT_ACTION,
    index_status,
    retire_entries,
    staging_problems,
)
from incidentops.records.findings import ERROR, Finding
from incidentops.records.model import AuditEntry, RegressionTest, State
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

_ENTRIES = "ceremony.retire-entries"
_INDEX = "ceremony.index"


def _entries(ctx: CheckContext) -> dict[str, list[str]]:
    if _ENTRIES not in ctx.cache:
        ctx.cache[_ENTRIES] = retire_entries(ctx.registry)
    found: dict[str, list[str]] = ctx.cache[_ENTRIES]
    return found


def _index(ctx: CheckContext) -> dict[str, str]:
    """Uncommitted ceremony files and their git status: one `git status` per check, only when asked."""
    if _INDEX not in ctx.cache:
        ctx.cache[_INDEX] = index_status(ctx.registry.root) or {}
    found: dict[str, str] = ctx.cache[_INDEX]
    return found


def _fix(test_id: str) -> str:
    return (f"finish it with `incidentops lifecycle retire --resume {test_id}`, or take it back with"
            f" `incidentops lifecycle retire --undo {test_id}` while it is uncommitted")


def test_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    test = ctx.registry.typed(RegressionTest, path)
    if test is None:
        return
    test_id = path.rsplit("/", 1)[1].removesuffix(".yaml")
    state, source = test.state, test.source
    archived = path.startswith(f"{ARCHIVE_DIR}/")
    entries = _entries(ctx).get(test_id, [])
    if entries and state is not State.RETIRED:
        where = "moved into regressions/archive/, is still" if archived else "still in regressions/, is"
        yield source.finding(("state",), ERROR, "ceremony.incomplete",
                          f"the retirement ceremony of {test_id} stopped half-way: {entries[0]} retires it, but"
                          f" the test, {where} {state}", _fix(test_id))
    elif archived and state is State.RETIRED and not entries:
        yield source.finding(("state",), ERROR, "ceremony.incomplete",
                          f"the retirement ceremony of {test_id} stopped half-way: the test is RETIRED but no"
                          " audit entry records its retirement",
                          f"write it from the test's RETIRE decision with `incidentops lifecycle retire --resume"
                          f" {test_id}`")
    if archived and entries:
        for where, message in staging_problems(_index(ctx), entries[0], path):
            if where == path:
                yield source.finding(("state",), ERROR, "ceremony.unstaged",
                                  f"{message}: a commit now would record another retirement than the one"
                                  " `check` reads", f"stage both with `incidentops lifecycle retire --resume"
                                  f" {test_id}`")


def audit_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    entry = ctx.registry.typed(AuditEntry, path)
    if entry is None or entry.action != AUDIT_ACTION:
        return
    test_id, source = entry.test_id, entry.source
    test = ctx.registry.test_record(test_id)
    if test is not None and test.state is not State.RETIRED:
        yield source.finding(("test_id",), ERROR, "lifecycle.audit-without-retirement",
                          f"this audit entry retires {test_id}, but {test.path} is {test.state}",
                          f"finish the ceremony with `incidentops lifecycle retire --resume {test_id}`, or take"
                          f" it back with `incidentops lifecycle retire --undo {test_id}`")
    entries = _entries(ctx).get(test_id, [])
    if len(entries) > 1 and path != entries[0]:
        yield source.finding(("test_id",), ERROR, "ceremony.duplicate-audit",
                          f"a second RETIRE_REGRESSION audit entry for {test_id} (the first is {entries[0]})",
                          f"a test is retired once: delete this entry if it was never merged (`git rm -f {path}`);"
                          " a merged audit entry is never deleted, so ask the safety team")
    if entries and path == entries[0]:
        archived = f"{ARCHIVE_DIR}/{test_id}.yaml"
        for where, message in staging_problems(_index(ctx), path, archived):
            if where == path:
                yield source.finding(("test_id",), ERROR, "ceremony.unstaged",
                                  f"{message}: a commit now would record another retirement than the one"
                                  " `check` reads", f"stage both with `incidentops lifecycle retire --resume"
                                  f" {test_id}`")


RULES = {"regression": [test_rules], "audit": [audit_rules]}
