"""Inspect AI eval logs (``.eval``, a zip, and ``.json``), read with Inspect's own log reader.

Needs the ``inspect`` extra; without it such a log is exit 2 saying how to install it.
The log is copied from the opened results file into a private temporary file (so the
file judged is the file that was checked), the zip's members are checked against a
size cap before Inspect unpacks anything, and samples are read one at a time.

The gate judges samples, never the log's headline metrics (which leave errored
samples out of their denominator): every sample of every epoch is one run of each of
its scorers (the check) for the log's model.

- an errored sample, or one that hit a limit (messages, tokens, time...), is an error;
- a sample without scores is an error ("unscored");
- a score of ``C``/``I`` (or ``True``/``False``, 1/0) passes/fails; ``N`` (no answer)
  fails; any other value is exit 2 (the gate cannot tell what it means);
- ``blocked_at_turn`` is read from the score's metadata (the shipped scorer writes it);
- the test id is the sample's ``test_id`` metadata, else its id;
- a log still running (status ``started``) or invalidated is exit 2.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from incidentops.gate.testresult import (
    ERROR,
    FAIL,
    MAX_RESULTS,
    PASS,
    Reader,
    ResultsSource,
    TestResult,
    short_message,
)
from incidentops.records.errors import IncidentOpsError

ZIP_MAGIC = b"PK\x03\x04"
#: what the zip's members may unpack to, together
MAX_UNPACKED = 1024 * 1024 * 1024
MAX_MEMBERS = 200_000

HINT_INSTALL = "install the extra that reads Inspect logs: pip install 'incidentops[inspect]'"
_EXCLUDE = {"events", "messages", "attachments", "timelines", "model_usage", "role_usage", "store"}

_PASS_VALUES: dict[Any, str] = {"C": PASS, "I": FAIL, "N": FAIL, True: PASS, False: FAIL}


def looks_like_log(head: bytes) -> bool:
    """A JSON Inspect log opens with its ``version`` and ``status`` (Inspect writes them first)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"version"' in text[:200] and b'"eval"' in text


def _sniff(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or looks_like_log(head)


def _check_zip(data: bytes, label: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise IncidentOpsError(f"{label}:1: not a readable .eval log (a broken zip: {exc})",
                               "the eval may have been cut short; re-run it, or pass the complete log") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
        raise IncidentOpsError(
            f"{label}:1: the .eval log unpacks to more than {MAX_UNPACKED:,} bytes or {MAX_MEMBERS:,} files",
            "split the run into several logs",
        )


def _outcome(value: Any, scorer: str, where: str) -> str:
    key = value if isinstance(value, str | bool) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
        key = bool(value)
    outcome = _PASS_VALUES.get(key) if key is not None else None
    if outcome is None:
        raise IncidentOpsError(
            f"{where}: scorer {scorer} gave {value!r}, which the gate cannot read as pass or fail",
            "use a scorer whose values are C/I (or 1/0), such as the shipped refused_by_expected_turn; "
            "a partial or numeric score says nothing the gate can judge",
        )
    return outcome


def _turn(metadata: Any, where: str) -> int | None:
    value = metadata.get("blocked_at_turn") if isinstance(metadata, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise IncidentOpsError(f"{where}: blocked_at_turn is {value!r}, not a turn number",
                               "blocked_at_turn is the 1-based user turn the model refused at, or null")
    return value


def _sample_results(sample: Any, model: str, scorers: list[str], label: str) -> Iterator[TestResult]:
    metadata = sample.metadata if isinstance(sample.metadata, dict) else {}
    test_id = str(metadata.get("test_id") or sample.id)
    where = f"{label}: sample {sample.id} epoch {sample.epoch}"
    failure = None
    if sample.error is not None:
        failure = short_message(sample.error.message) or "the sample errored"
    elif sample.limit is not None:
        failure = f"hit the {sample.limit.type} limit ({sample.limit.limit:g}) before it was scored"
    elif not sample.scores:
        failure = "unscored: the sample has no score"
    if failure is not None:
        # a run of every check the task has: an errored epoch is a failed run, never left out
        for scorer in scorers or ["sample"]:
            yield TestResult(test_id=test_id, outcome=ERROR, check=scorer, message=failure, model=model, source=where)
        return
    for scorer, score in sample.scores.items():
        outcome = _outcome(score.value, scorer, where)
        yield TestResult(
            outcome=outcome,
            blocked_at_turn=_turn(score.metadata, where),
            check=scorer,
            message=short_message(score.explanation or "") if outcome != PASS else "",
            test_id=test_id,
            model=model,
            source=where,
        )


def _scorer_names(header: Any) -> list[str]:
    names = [getattr(s, "name", None) for s in (getattr(header.eval, "scorers", None) or [])]
    return [str(n).rsplit("/", 1)[-1] for n in names if n]


def _read(path: Path, label: str) -> list[TestResult]:
    try:
        from inspect_ai.log import read_eval_log, read_eval_log_samples
    except ImportError:
        raise IncidentOpsError(f"{label}:1: an Inspect log, and Inspect AI is not installed", HINT_INSTALL) from None
    try:
        header = read_eval_log(str(path), header_only=True)
    except Exception as exc:
        raise IncidentOpsError(f"{label}:1: Inspect cannot read this log: {short_message(str(exc))}",
                               "pass the log exactly as `inspect eval` wrote it (a .eval or .json file)") from None
    if header.status == "started":
        raise IncidentOpsError(f"{label}:1: the eval is still running or was killed (status started)",
                               "gate the log of a finished eval")
    if getattr(header, "invalidated", False):
        raise IncidentOpsError(f"{label}:1: the log is marked invalidated", "re-run the eval and gate the new log")
    model = str(header.eval.model)
    scorers = _scorer_names(header)
    results: list[TestResult] = []
    try:
        if path.suffix == ".json":
            samples: Any = read_eval_log(str(path)).samples or []
        else:
            samples = read_eval_log_samples(str(path), all_samples_required=False, exclude_fields=_EXCLUDE)
        for sample in samples:
            for result in _sample_results(sample, model, scorers, label):
                if len(results) >= MAX_RESULTS:
                    raise IncidentOpsError(f"{label}:1: more than {MAX_RESULTS:,} results in one log",
                                           "split the run into several logs")
                results.append(result)
    except IncidentOpsError:
        raise
    except Exception as exc:
        raise IncidentOpsError(f"{label}:1: Inspect cannot read the log's samples: {short_message(str(exc))}",
                               "pass the log exactly as `inspect eval` wrote it") from None
    if not results:
        raise IncidentOpsError(f"{label}:1: the log holds no samples (status {header.status})",
                               "the eval may have stopped before any sample ran; re-run it")
    return results


def parse_inspect(source: ResultsSource) -> list[TestResult]:
    """Every sample x epoch x scorer of an Inspect log, as results."""
    data = source.read_all()
    zipped = data.startswith(ZIP_MAGIC)
    if zipped:
        _check_zip(data, source.label)
    with tempfile.TemporaryDirectory(prefix="incidentops-inspect-") as folder:
        copy = Path(folder) / ("log.eval" if zipped else "log.json")
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        del data
        return _read(copy, source.label)


READER = Reader(
    name="Inspect log",
    suffixes=frozenset({".eval", ".json"}),
    sniff=_sniff,
    parse=parse_inspect,
    writers="inspect eval (--log-format eval or json)",
)
