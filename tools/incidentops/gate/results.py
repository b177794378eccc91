"""Read a regression suite's results files and combine repeated results per test.

A results path must be a regular file (or a symlink to one) of at most
``MAX_BYTES``: a FIFO, device, socket or folder is refused from its ``stat``,
before anything is read, and the file is opened non-blocking and checked again
on the open descriptor, so nothing swapped in between can make the gate hang or
read without bound. Readers get the content in pieces and parse it as a stream.

Duplicates are combined, never rejected: the same test id, check and model
appearing several times (in one file or across files) means repeated runs, e.g. ``pytest
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
from dataclasses import dataclass
from pathlib import Path

from incidentops.gate import inspect_log, jsonl, junit, promptfoo
from incidentops.gate.testresult import OUTCOME_RANK, Reader, TestResult
from incidentops.records.errors import IncidentOpsError

MAX_BYTES = 64 * 1024 * 1024
CHUNK = 64 * 1024
HEAD = 4096

#: every results format the gate reads; a new format is one module with a READER, listed here.
#: Formats are told apart by content (``sniff``), most specific first; the suffix breaks ties.
READERS: tuple[Reader, ...] = (
    inspect_log.READER, promptfoo.READER, promptfoo.LINES_READER, junit.READER, jsonl.READER,
)

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


def describe(head: bytes) -> str:
    """What a file that no reader takes looks like, for the error message."""
    text = head.lstrip(_BLANK)
    if head.startswith(inspect_log.ZIP_MAGIC):
        return "a zip archive that is not an Inspect .eval log"
    if text.startswith(b"<"):
        return "an XML document that is not a JUnit report"
    if text.startswith(b"{") and text[1:2] in (b"\n", b"\r"):
        return "a pretty-printed JSON document that is neither an Inspect log nor promptfoo results"
    if text.startswith(b"["):
        return "a JSON list (results files are one object per line, or a runner's own document)"
    if text.startswith(b"{"):
        return "a JSON object that is neither an Inspect log nor promptfoo results"
    if b"\x00" in head:
        return "a binary file"
    return "text in no results format"


#: the reader of a suffix whose content matches no format (it names the problem precisely)
_FALLBACK = {".jsonl": jsonl.READER, ".ndjson": jsonl.READER, ".xml": junit.READER}

_OPTIONS = (
    "pytest --junitxml=results.xml; promptfoo eval -o results.json (or -o results.junit.xml); "
    "inspect eval (its .eval log, or --log-format json); or JSON Lines of your own harness"
)


def _reader(source: _OpenResults) -> Reader:
    head = source.head.lstrip(_BLANK)
    found = [r for r in READERS if r.sniff(source.head if r is inspect_log.READER else head)]
    claimed = [r for r in found if source.suffix in r.suffixes]
    if claimed or found:
        return (claimed or found)[0]
    if source.suffix in _FALLBACK:  # let the suffix's reader say exactly what is wrong
        return _FALLBACK[source.suffix]
    names = ", ".join(f"{r.name} ({', '.join(sorted(r.suffixes))})" for r in READERS)
    raise IncidentOpsError(
        f"{source.label}:1: not a results format the gate reads: it looks like {describe(source.head)}",
        f"the gate reads {names}; write one with: {_OPTIONS}",
    )


@dataclass(frozen=True, slots=True)
class ResultsFile:
    """One results file as read: its path, the format found in it, and its results."""

    path: str
    format: str
    results: list[TestResult]


def read_results_file(path: Path) -> ResultsFile:
    """One results file, in whichever format its content shows (see :data:`READERS`).

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
        reader = _reader(source)
        return ResultsFile(str(path), reader.name, reader.parse(source))
    finally:
        os.close(fd)


def load_results_file(path: Path) -> list[TestResult]:
    """Every result in one results file (see :func:`read_results_file`)."""
    return read_results_file(path).results


def read_results(paths: Sequence[Path]) -> list[ResultsFile]:
    """Every file, in order."""
    return [read_results_file(Path(path)) for path in paths]


def load_results(paths: Sequence[Path]) -> list[TestResult]:
    """Every result of every file, in order (not combined: see :func:`combine_results`)."""
    return [result for file in read_results(paths) for result in file.results]


def _joined(values: Iterable[str], keep: int = 5) -> str:
    unique = list(dict.fromkeys(v for v in values if v))
    more = f" (+{len(unique) - keep} more)" if len(unique) > keep else ""
    return "; ".join(unique[:keep]) + more


def combine_results(results: Iterable[TestResult]) -> list[TestResult]:
    """One result per (test id, check, model), in order of first appearance; repeated runs combined.

    Results are runs of one another only when test id, check and model are the same:
    two models, or two checks of one test, are never merged into a pass rate.
    """
    grouped: dict[tuple[str, str | None, str | None], list[TestResult]] = {}
    for result in results:
        grouped.setdefault((result.test_id, result.check, result.model), []).append(result)
    combined: list[TestResult] = []
    for (test_id, check, model), group in grouped.items():
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
                model=model,
                check=check,
            )
        )
    return combined
