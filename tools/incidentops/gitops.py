"""Git operations the lifecycle commands and pr-check need besides :mod:`incidentops.history`.

Staging the files a retirement ceremony wrote, and the date of a commit.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from incidentops.errors import IncidentOpsError


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
