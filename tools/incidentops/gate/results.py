"""Read a regression suite's results files and combine repeated results per test.

A results path must be a regular file (or a symlink to one) of at most
``MAX_BYTES``: a FIFO, device, socket or folder is refused from its ``stat``,
before anything is read, and the file is opened non-blocking and checked again
on the open descriptor, so nothing swapped in between can make the gate hang or
read without bound. Readers get the content in pieces and parse it as a stream.

Duplicates are combined, never rejected: the same test id appearing several
times (in one file or across files) means repeated runs, e.g. ``pytest
--count=5``, one report per run, a rerun plugin that writes every attempt, or
pytest's second ``<testcase>`` for a teardown error. The combination keeps the
worst outcome (fail > error > skip > pass, so any failure wins), the latest
``blocked_at_turn`` (the worst case), and sums the run counts so a pass rate
across runs can be judged: an ACTIVE test with any failed attempt blocks.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from incidentops.errors import IncidentOpsError
from incidentops.gate import jsonl, junit
from incidentops.gate.testresult import OUTCOME_RANK, Reader, TestResult

MAX_BYTES = 64 * 1024 * 1024
CHUNK = 64 * 1024
HEAD = 4096

#: every results format the gate reads; a new format is one module with a READER, listed here
READERS: tuple[Reader, ...] = (junit.READER, jsonl.READER)

_BLANK = b"\xef\xbb\xbf \t\r\n"

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(label: str, mode: int) -> IncidentOpsError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return IncidentOpsError(
        f"{label}: is {kind}, not a results file: refused without reading it",
        "pass the report file the suite wrote (a regular file), not a folder, pipe or device",
    )


def _too_big(label: str, size: int) -> IncidentOpsError:
    return IncidentOpsError(
        f"{label}:1: the results file is {size:,} bytes, over the {MAX_BYTES:,}-byte cap",
        "split the results into several files",
    )


class _OpenResults:
    """A :class:`ResultsSource` over an open regular file, read at most up to the cap."""

    def __init__(self, path: Path, fd: int, suffix: str) -> None:
        self.label = str(path)
        self.suffix = suffix
        self._fd = fd
        self._read = 0
        self._head = self._next(HEAD)

    @property
    def head(self) -> bytes:
        return self._head

    def _next(self, size: int) -> bytes:
        try:
            data = os.read(self._fd, size)
        except OSError as exc:
            raise IncidentOpsError(f"{self.label}: cannot read: {exc.strerror}", "check the file") from None
        self._read += len(data)
        if self._read > MAX_BYTES:  # the file grew after the size check
            raise _too_big(self.label, self._read)
        return data

    def chunks(self) -> Iterator[bytes]:
        if self._head:
            yield self._head
        while True:
            data = self._next(CHUNK)
            if not data:
                return
            yield data

    def read_all(self) -> bytes:
        return b"".join(self.chunks())


def _open(path: Path) -> int:
    label = str(path)
    try:
        before = os.stat(path)  # follows symlinks: a link to a FIFO is refused like the FIFO
    except FileNotFoundError:
        raise IncidentOpsError(
            f"{label}: no such results file",
            "check the path; the suite may not have run or may write its report elsewhere",
        ) from None
    except OSError as exc:
        raise IncidentOpsError(f"{label}: cannot read: {exc.strerror}", "check the path and its permissions") from None
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(label, before.st_mode)
    if before.st_size > MAX_BYTES:
        raise _too_big(label, before.st_size)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise IncidentOpsError(f"{label}: cannot read: {exc.strerror}", "check the file's permissions") from None
    after = os.fstat(fd)  # what was opened, whatever the path points at now
    if not stat.S_ISREG(after.st_mode) or after.st_size > MAX_BYTES:
        os.close(fd)
        if not stat.S_ISREG(after.st_mode):
            raise _not_regular(label, after.st_mode)
        raise _too_big(label, after.st_size)
    return fd


def _reader(source: _OpenResults) -> Reader:
    head = source.head.lstrip(_BLANK)
    claimed = [r for r in READERS if source.suffix in r.suffixes]
    if len(claimed) == 1:
        return claimed[0]
    candidates = claimed or list(READERS)
    for reader in candidates:
        if reader.sniff(head):
            return reader
    names = ", ".join(f"{r.name} ({', '.join(sorted(r.suffixes))})" for r in READERS)
    raise IncidentOpsError(
        f"{source.label}:1: not a results format the gate reads",
        f"the gate reads {names}; give the report the suffix of its format",
    )


def load_results_file(path: Path) -> list[TestResult]:
    """Every result in one results file: JUnit XML (``.xml``) or JSON Lines (``.jsonl``/``.ndjson``).

    Other suffixes are recognised by content (``<`` starts XML, ``{`` JSON Lines).
    Raises :class:`IncidentOpsError` naming ``path:line`` for an empty, truncated,
    malformed or not understood file, and for a path that is not a regular file.
    """
    fd = _open(path)
    try:
        source = _OpenResults(path, fd, path.suffix.lower())
        if not source.head.lstrip(_BLANK) and len(source.head) < HEAD:
            raise IncidentOpsError(
                f"{source.label}:1: the results file is empty",
                "the suite may have crashed before writing its report; re-run it",
            )
        return _reader(source).parse(source)
    finally:
        os.close(fd)


def load_results(paths: Sequence[Path]) -> list[TestResult]:
    """Every result of every file, in order (not combined: see :func:`combine_results`)."""
    results: list[TestResult] = []
    for path in paths:
        results.extend(load_results_file(Path(path)))
    return results


def _joined(values: Iterable[str], keep: int = 5) -> str:
    unique = list(dict.fromkeys(v for v in values if v))
    more = f" (+{len(unique) - keep} more)" if len(unique) > keep else ""
    return "; ".join(unique[:keep]) + more


def combine_results(results: Iterable[TestResult]) -> list[TestResult]:
    """One result per test id, in order of first appearance; repeated results combined."""
    grouped: dict[str, list[TestResult]] = {}
    for result in results:
        grouped.setdefault(result.test_id, []).append(result)
    combined: list[TestResult] = []
    for test_id, group in grouped.items():
        if len(group) == 1:
            combined.append(group[0])
            continue
        turns = [r.blocked_at_turn for r in group if r.blocked_at_turn is not None]
        combined.append(
            TestResult(
                test_id=test_id,
                outcome=max((r.outcome for r in group), key=OUTCOME_RANK.__getitem__),
                blocked_at_turn=max(turns) if turns else None,
                runs=sum(r.counted_runs for r in group),
                passes=sum(r.counted_passes for r in group),
                source=_joined(r.source for r in group),
                message=_joined(r.message for r in group),
            )
        )
    return combined
