"""Git operations the lifecycle commands and pr-check need besides :mod:`incidentops.lifecycle.history`.

Staging the files a retirement ceremony wrote, the date of a commit, and the commit a
registry is at (for release records).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from incidentops.records.errors import IncidentOpsError


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "--literal-pathspecs", *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    except FileNotFoundError:
        raise IncidentOpsError("git is not installed or not on PATH", "install git") from None


def _fail(root: Path, what: str, proc: subprocess.CompletedProcess[bytes]) -> IncidentOpsError:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    first = lines[0].removeprefix("fatal: ") if lines else "unknown error"
    return IncidentOpsError(f"{root}: {what} failed: {first}", "run the same git command by hand to see why")


def stage(root: Path, paths: Sequence[str]) -> None:
    """``git add`` the given paths (relative to ``root``); one index update, all or nothing."""
    if not paths:
        return
    proc = _git(root, "add", "--", *paths)
    if proc.returncode != 0:
        raise _fail(root, "git add", proc)


def commit_time(root: Path, rev: str) -> datetime:
    """The committer date of ``rev`` (UTC): when the change landed."""
    if not rev or rev.startswith("-"):
        raise IncidentOpsError(f"invalid git revision {rev!r}", "give a branch, tag or commit")
    proc = _git(root, "log", "-1", "--format=%ct", f"{rev}^{{commit}}", "--")
    if proc.returncode != 0:
        raise _fail(root, f"reading the date of {rev}", proc)
    return datetime.fromtimestamp(int(proc.stdout.decode().strip()), UTC)


_NOT_A_REPO = "not a git repository"


def _inside_checkout(root: Path) -> bool:
    here = root.resolve()
    return any((folder / ".git").exists() for folder in (here, *here.parents))


def head_commit(root: Path) -> str | None:
    """The full id of the commit checked out at ``root``.

    ``None`` when ``root`` is not in a git work tree, or the repository has no
    commit yet: there is no commit to name. Raises :class:`IncidentOpsError`
    when git is needed (``root`` is in a checkout) but missing or failing, so a
    CI misconfiguration never records a release against an unknown commit silently.
    """
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    except FileNotFoundError:
        if _inside_checkout(root):
            raise IncidentOpsError(
                f"{root} is a git checkout but git is not installed or not on PATH",
                "install git so the release record can name the commit",
            ) from None
        return None
    if proc.returncode == 0:
        return proc.stdout.decode("ascii", "replace").strip() or None
    message = proc.stderr.decode("utf-8", "replace").strip()
    if not message:
        return None  # a repository without commits: HEAD names nothing yet
    if _NOT_A_REPO in message:
        return None
    first = message.splitlines()[0].removeprefix("fatal: ")
    hint = "run `git rev-parse HEAD` in the registry to see the whole message"
    if "dubious ownership" in message:
        hint = f"mark the checkout as trusted: `git config --global --add safe.directory {root.resolve()}`"
    raise IncidentOpsError(f"{root}: `git rev-parse HEAD` failed: {first}", hint)


def uncommitted(root: Path, pathspecs: Sequence[str]) -> list[tuple[str, str]] | None:
    """``(status, path)`` of every file under ``pathspecs`` that differs from HEAD.

    Staged or not, deleted, untracked and ignored files all count (what a command
    reads from the work tree is not what HEAD holds). ``status`` is git's two-letter
    porcelain code (``??`` untracked, ``!!`` ignored); paths are relative to the
    repository's top. ``None`` when ``root`` is not in a git work tree.
    """
    proc = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=traditional",
                "--no-renames", "--", *pathspecs)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace")
        if _NOT_A_REPO in message:
            return None
        raise _fail(root, "git status", proc)
    entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [(entry[:2], entry[3:]) for entry in entries if len(entry) > 3]


def resolve_commit(root: Path, rev: str) -> str:
    """The full id of the commit ``rev`` names."""
    if not rev or rev.startswith("-"):
        raise IncidentOpsError(f"invalid git revision {rev!r}", "give a branch, tag or commit")
    proc = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if proc.returncode != 0:
        raise IncidentOpsError(f"git revision {rev!r} not found", "fetch it, or check the name")
    return proc.stdout.decode("ascii", "replace").strip()


def commit_dates(root: Path, base: str, head: str) -> list[tuple[str, datetime, datetime]]:
    """``(commit, author date, committer date)`` of each commit in ``base..head``, newest first."""
    proc = _git(root, "log", "--format=%H %at %ct", f"{resolve_commit(root, base)}..{resolve_commit(root, head)}", "--")
    if proc.returncode != 0:
        raise _fail(root, f"listing the commits of {base}..{head}", proc)
    out = []
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        sha, authored, committed = line.split()
        out.append((sha, datetime.fromtimestamp(int(authored), UTC), datetime.fromtimestamp(int(committed), UTC)))
    return out


def merge_base(root: Path, base: str, head: str) -> str | None:
    """The commit where ``head`` forked from ``base`` (None when they share no history)."""
    proc = _git(root, "merge-base", resolve_commit(root, base), resolve_commit(root, head))
    if proc.returncode == 1:
        return None
    if proc.returncode != 0:
        raise _fail(root, f"finding where {head} forked from {base}", proc)
    return proc.stdout.decode("ascii", "replace").strip() or None


def tree_paths(root: Path, rev: str, pathspecs: Sequence[str]) -> frozenset[str]:
    """The paths of the files under ``pathspecs`` at commit ``rev`` (names only, no content read)."""
    proc = _git(root, "ls-tree", "-r", "-z", "--name-only", resolve_commit(root, rev), "--", *pathspecs)
    if proc.returncode != 0:
        raise _fail(root, f"listing the files of {rev}", proc)
    return frozenset(name for name in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if name)
