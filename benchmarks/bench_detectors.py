"""Precision and recall of the text detectors on labelled corpora, per rule family.

    python benchmarks/bench_detectors.py [--corpus heldout|dev|all] [--errors]

The corpora live in tests/data/detectors/:

- ``pii_heldout.yaml`` and ``blameless_heldout.yaml`` were written and committed before
  the detectors were tuned, and are never edited to fit them: their figures are the ones
  to quote. Targets: PII recall >= 0.95 at precision >= 0.95; blameless recall >= 0.9 at
  precision >= 0.95.
- ``pii_dev.yaml``, ``blameless_dev.yaml`` and ``tests/blameless_corpus.yaml`` are the
  texts the rules were tuned on.

PII is scored by span: a finding counts when its rule is the labelled one and its
position falls inside the labelled text; every other finding is a false positive, every
label without one a miss. Blameless language is scored by text: the family line counts a
text as flagged when any ``blameless.*`` rule fires; the rule lines score each rule alone.
``--errors`` lists what was missed and what was wrongly reported (for the development
corpora; reading the held-out errors to change a rule spends the held-out corpus).
Exit status 1 when a held-out figure misses its target.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tools"))

from incidentops.checks import blameless, pii  # noqa: E402

DATA = REPO / "tests" / "data" / "detectors"
CORPORA = {
    "heldout": {"pii": [DATA / "pii_heldout.yaml"], "blameless": [DATA / "blameless_heldout.yaml"]},
    "dev": {
        "pii": [DATA / "pii_dev.yaml"],
        "blameless": [DATA / "blameless_dev.yaml", REPO / "tests" / "blameless_corpus.yaml"],
    },
}
TARGETS = {"pii": (0.95, 0.95), "blameless": (0.95, 0.9)}  # (precision, recall)


class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self, name: str) -> str:
        return (
            f"  {name:<30} precision {self.precision:5.3f}  recall {self.recall:5.3f}"
            f"   (tp {self.tp}, fp {self.fp}, fn {self.fn})"
        )


def _load(paths: list[Path]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in paths:
        entries.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return entries


def _offset(text: str, line: int, col: int) -> int:
    starts = [0]
    starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")
    return starts[line - 1] + col - 1


def score_pii(entries: list[dict[str, Any]], errors: list[str]) -> tuple[Score, dict[str, Score], float]:
    total, by_rule = Score(), {rule: Score() for rule in pii.RULES}
    seconds = 0.0
    for entry in entries:
        text = entry["text"]
        labels: list[tuple[str, int, int]] = []
        for rule, value in entry.get("pii", []):
            start = text.find(value)
            while any(start == s for _, s, _ in labels):
                start = text.find(value, start + 1)
            labels.append((rule, start, start + len(value)))
        began = time.perf_counter()
        findings = [f for f in pii.scan_text(text, "corpus.yaml", public=True) if f.rule in pii.RULES]
        seconds += time.perf_counter() - began
        unmatched = list(labels)
        for finding in findings:
            at = _offset(text, finding.line, finding.col)
            match = next((lab for lab in unmatched if lab[0] == finding.rule and lab[1] <= at < lab[2]), None)
            if match is not None:
                unmatched.remove(match)
                by_rule[finding.rule].tp += 1
                total.tp += 1
            else:
                by_rule[finding.rule].fp += 1
                total.fp += 1
                errors.append(f"FP {finding.rule}: {finding.message} | {text.strip()[:100]}")
        for rule, start, end in unmatched:
            by_rule[rule].fn += 1
            total.fn += 1
            errors.append(f"FN {rule}: {text[start:end]!r} | {text.strip()[:100]}")
    return total, by_rule, seconds


def score_blameless(entries: list[dict[str, Any]], errors: list[str]) -> tuple[Score, dict[str, Score], float]:
    total, by_rule = Score(), {rule: Score() for rule in blameless.RULES}
    seconds = 0.0
    for entry in entries:
        began = time.perf_counter()
        findings = blameless.lint_text(entry["text"], "corpus.md")
        seconds += time.perf_counter() - began
        found = {f.rule for f in findings if f.rule in blameless.RULES}
        expected = set(entry["rules"])
        if found and expected:
            total.tp += 1
        elif found:
            total.fp += 1
        elif expected:
            total.fn += 1
        for rule in by_rule:
            if rule in found and rule in expected:
                by_rule[rule].tp += 1
            elif rule in found:
                by_rule[rule].fp += 1
            elif rule in expected:
                by_rule[rule].fn += 1
        if found != expected:
            messages = "; ".join(f"{f.rule}: {f.message}" for f in findings)
            errors.append(f"expected {sorted(expected)} found [{messages}] | {entry['text'].strip()[:100]}")
    return total, by_rule, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=("heldout", "dev", "all"), default="all")
    parser.add_argument("--errors", action="store_true", help="list misses and false positives")
    args = parser.parse_args()
    names = ["heldout", "dev"] if args.corpus == "all" else [args.corpus]
    missed = False
    for name in names:
        for family, scorer in (("pii", score_pii), ("blameless", score_blameless)):
            entries = _load(CORPORA[name][family])
            errors: list[str] = []
            total, by_rule, seconds = scorer(entries, errors)  # type: ignore[operator]
            unit = "labelled values" if family == "pii" else "texts"
            size = sum(len(e.get("pii", [])) for e in entries) if family == "pii" else len(entries)
            print(f"{name} {family}: {len(entries)} texts, {size} {unit}, {seconds * 1000:.1f} ms")
            print(total.line(f"{family} (all rules)"))
            for rule, score in by_rule.items():
                if score.tp + score.fp + score.fn:
                    print(score.line(rule))
            precision, recall = TARGETS[family]
            if name == "heldout" and (total.precision < precision or total.recall < recall):
                missed = True
                print(f"  below target: precision >= {precision}, recall >= {recall}")
            if args.errors:
                for kind, count in Counter(e.split(" ", 1)[0] for e in errors).items():
                    print(f"  {count} x {kind}")
                for error in errors:
                    print("   ", error)
            print()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
