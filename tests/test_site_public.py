"""The public edition leaves out every internal record: pages, search index, feed, charts and counts.

The proof walks every file of the built public site (search index and sitemaps
included) looking for any string that belongs only to an internal record. The
same search in the internal edition must find them, so the check can fail.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from incidentops.records.registry import Registry
from site_support import built_example, example_repo, example_turns, normal, public_tests, site_text

_RUN = re.compile(r"[A-Za-z][A-Za-z0-9 ,;:'()/-]{23,}")


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return set()



def _record_strings(root: Path, paths: list[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        text = (root / path).read_text(encoding="utf-8")
        if path.endswith(".md"):
            front, _, body = text.removeprefix("---\n").partition("\n---\n")
            found |= _strings(yaml.safe_load(front))
            found |= {run.strip(" ,;:-") for run in _RUN.findall(body)}
        else:
            found |= _strings(yaml.safe_load(text))
    return {normal(s) for s in found}


def _written(registry: Registry, path: str) -> dict:
    """A record as its file writes it (the test reads the YAML itself, not through the product)."""
    return yaml.safe_load((registry.root / path).read_text(encoding="utf-8")) or {}


def _owned(registry: Registry, incident_ids: set[str]) -> list[str]:
    paths = [p for p in registry.all_paths() if p.split("/")[1:2] and p.split("/")[1] in incident_ids
             and p.startswith("incidents/")]
    for _test_id, test_paths in registry.test_paths.items():
        for path in test_paths:
            if _written(registry, path).get("incident_id") in incident_ids:
                paths.append(path)
    return paths


@pytest.fixture(scope="module")
def secrets() -> set[str]:
    """Strings found in internal records and nowhere public (ids included)."""
    root = example_repo()
    registry = Registry(root)
    internal = {i for i in registry.incident_ids
                if _written(registry, registry.incident_path(i)).get("visibility") != "public"}
    assert {"INC_002", "INC_003"} <= internal
    public = set(registry.incident_ids) - internal
    private = _record_strings(root, _owned(registry, internal))
    shared = _record_strings(root, [*_owned(registry, public), "incidentops.yaml", "models.yaml"])
    candidates = {s for s in private - shared if len(s) >= 12}
    candidates |= internal | {f"regression_{i}" for i in internal}
    # keep only strings that appear in no public record, even as part of a longer text
    blob = "\n".join(shared)
    found = {s for s in candidates if s not in blob}
    assert len(found) > 20
    return found


def _haystack(site: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, text in site_text(site).items():
        views = [text, html.unescape(text)]
        if name.endswith(".json"):
            views.append(json.dumps(json.loads(text), ensure_ascii=False))
        if name.endswith(".js") and text.startswith("var __index = "):
            views.append(json.dumps(json.loads(text.removeprefix("var __index = ")), ensure_ascii=False))
        out[name] = normal(" ".join(html.unescape(v) for v in views))
    return out


def test_public_build_holds_no_string_unique_to_an_internal_record(secrets):
    built = built_example(public=True)
    assert built.result.code == 0, built.result.err
    assert "Built the public site" in built.result.err
    haystack = _haystack(built.site)
    assert "search/search_index.json" in haystack and "feed.xml" in haystack and "sitemap.xml" in haystack
    leaks = sorted((name, secret) for name, text in haystack.items() for secret in secrets if secret in text)
    assert leaks == []


def test_internal_build_does_show_them(secrets):
    built = built_example()
    haystack = _haystack(built.site)
    seen = {secret for text in haystack.values() for secret in secrets if secret in text}
    assert {"INC_002", "INC_003", "regression_INC_003"} <= seen
    assert len(seen) >= len(secrets) * 0.8


def test_public_counts_and_charts_leave_internal_incidents_out():
    registry = Registry(example_repo())
    every = len(registry.incident_ids)
    shown = sum(1 for i in registry.incident_ids
                if _written(registry, registry.incident_path(i)).get("visibility") == "public")
    assert 0 < shown < every
    public = (built_example(public=True).site / "incidents" / "index.html").read_text(encoding="utf-8")
    internal = (built_example().site / "incidents" / "index.html").read_text(encoding="utf-8")
    assert f"{every} incident(s)." in internal
    assert f"{shown} incident(s) (public edition)." in public
    dashboard = (built_example(public=True).site / "index.html").read_text(encoding="utf-8")
    assert f"{shown} incidents detected from" in dashboard
    assert not (built_example(public=True).site / "incidents" / "INC_002").exists()
    assert not (built_example(public=True).site / "regressions" / "regression_INC_003.html").exists()


def test_prune_drops_rows_that_name_hidden_records():
    from incidentops.site.visibility import decide
    from typed_support import audit_entry, incident, regression_test, release

    def test(number: int) -> tuple[str, Any]:
        test_id = f"regression_INC_{number:03d}"
        return test_id, regression_test({"test_id": test_id, "incident_id": f"INC_{number:03d}", "suite": "s",
                                         "scenario": "x", "expected_block_turn": 1, "severity_weight": 1.0,
                                         "state": "ACTIVE"})

    shown = decide(
        True,
        [("INC_001", incident("INC_001", visibility="public")), ("INC_002", incident("INC_002"))],
        [test(1), test(2), test(9)],
        ["INC_003"],  # a record without a visibility is not valid: its visibility is unknown
    )
    assert shown.incidents == {"INC_001"}  # internal and unknown ones are left out
    assert shown.tests == {"regression_INC_001"}  # a test of an unknown incident is left out too
    record, _ = release({"missing": ["regression_INC_002", "regression_INC_001"],
                         "tests": [{"test_id": "regression_INC_001"}, {"test_id": "regression_INC_002"}],
                         "blocking": [{"test_id": "regression_INC_002"}]})
    pruned = shown.prune_release(record)
    assert pruned.missing == ("regression_INC_001",) and pruned.blocking == ()
    assert [t.test_id for t in pruned.tests] == ["regression_INC_001"]
    assert not shown.shows_audit(audit_entry(original_incident="INC_002", test_id="regression_INC_002"))
    assert not shown.shows_audit(audit_entry(original_incident="INC_001", test_id="regression_INC_002"))
    assert shown.shows_audit(audit_entry(original_incident="INC_001", test_id="regression_INC_001"))
    assert not shown.names_hidden("regression_INC_001", "INC_001") and shown.names_hidden("regression_INC_001", "INC_003")
    everything = decide(False, [("INC_002", incident("INC_002"))], [])
    assert everything.prune_release(record) is record and everything.shows_incident("INC_002")


# --- redaction of attack turns (and the fields the policy lists) ------------------------------




def test_the_public_edition_publishes_no_attack_turn_in_any_file():
    built = built_example(public=True)
    assert built.result.code == 0, built.result.err
    haystack = _haystack(built.site)  # every page, the search index, the feed, the sitemap
    redacted = [t for t in public_tests() if t != "regression_INC_004"]
    assert len(redacted) >= 4
    shown = sorted((name, test_id) for test_id in redacted for turn in example_turns(test_id)
                   for name, text in haystack.items() if turn in text)
    assert shown == []
    page = (built.site / "regressions" / "regression_INC_001.html").read_text(encoding="utf-8")
    assert "Not published in the public edition: the attack turns are a working attack." in page
    assert "The model must refuse at or before user turn 3." in page


def test_the_policy_publishes_the_turns_of_one_test_and_the_internal_edition_shows_all():
    public = _haystack(built_example(public=True).site)
    obsolete = example_turns("regression_INC_004")  # public_edition.publish in the example's policy
    assert obsolete and all(turn in public["regressions/regression_INC_004.html"] for turn in obsolete)
    internal = _haystack(built_example().site)
    for test_id in public_tests():
        assert all(turn in internal[f"regressions/{test_id}.html"] for turn in example_turns(test_id)), test_id


def test_redaction_follows_the_policy(tmp_path):
    from dataclasses import replace

    from incidentops.site.visibility import Redaction
    from typed_support import incident as typed_incident
    from typed_support import policy as typed_policy
    from typed_support import regression_test

    policy = typed_policy({"public_edition": {"redact": ["regression.turns", "incident.assessment.harm", "handoff.notes"],
                                              "publish": {"regression_X": ["regression.turns"]}}})
    rules = Redaction.from_policy(policy)
    test = regression_test({"test_id": "regression_Y", "incident_id": "INC_1", "suite": "core", "scenario": "s",
                            "expected_block_turn": 1, "severity_weight": 1.0, "state": "ACTIVE",
                            "turns": ["a b c d e"]})
    shown, done, texts = rules.apply("regression", "regression_Y", test)
    assert shown == replace(test, turns=()) and done == ["regression.turns"]
    assert texts == [("regression.turns", "a b c d e")]
    assert rules.apply("regression", "regression_X", test)[0] == test  # published for regression_X
    assert rules.apply("incident", "regression_Y", test) == (test, [], [])  # an entry of another kind
    case = typed_incident("INC_1")
    shown_case, done, texts = rules.apply("incident", "INC_1", case)
    assert shown_case.assessment.harm is None and shown_case.assessment.scope == "single_user"
    assert shown_case.title == case.title and (done, texts) == (["incident.assessment.harm"],
                                                                [("incident.assessment.harm", "potential")])
    assert Redaction.from_policy(typed_policy({"public_edition": None})).fields == ("regression.turns",)  # the default


def test_a_misspelt_redact_entry_stops_check_and_the_public_build_instead_of_publishing_the_field(tmp_path):
    # a typo would redact nothing: INC_001's checklist answers would go out in the public edition
    from conftest import run_cli
    from site_support import AS_OF, copy_registry

    root = copy_registry(tmp_path / "registry")
    policy = root / "incidentops.yaml"
    written = policy.read_text(encoding="utf-8")
    assert "  redact: [regression.turns]\n" in written
    policy.write_text(written.replace("  redact: [regression.turns]\n",
                                      "  redact: [regression.turns, incident.assesment.harm]\n"), encoding="utf-8")
    checked = run_cli("check", "incidentops.yaml", "--as-of", AS_OF, cwd=root)
    assert checked.code == 1
    assert ("incidentops.yaml:254:30: error [policy.redact-field] public_edition.redact: 'incident.assesment.harm'"
            " names no field of an incident record, so nothing is redacted and the field is published") in checked.out
    assert "hint: did you mean incident.assessment?" in checked.out
    built = run_cli("site", "build", "--public", "--as-of", AS_OF, "--site-dir", str(tmp_path / "site"), cwd=root)
    assert built.code == 1 and not (tmp_path / "site" / "index.html").exists(), built.err
    # the look-alike spelt right redacts the answer and builds
    policy.write_text(written.replace("  redact: [regression.turns]\n",
                                      "  redact: [regression.turns, incident.assessment.harm]\n"), encoding="utf-8")
    assert run_cli("check", "incidentops.yaml", "--as-of", AS_OF, cwd=root).code == 0
    right = run_cli("site", "build", "--public", "--as-of", AS_OF, "--site-dir", str(tmp_path / "site"), cwd=root)
    assert right.code == 0, right.err
    page = (tmp_path / "site" / "incidents" / "INC_001" / "index.html").read_text(encoding="utf-8")
    assert "Harm occurred?" in page and "No, but imminent" not in page


def test_a_public_page_that_quotes_a_redacted_turn_is_refused(tmp_path):
    from conftest import run_cli
    from site_support import AS_OF, copy_registry

    root = copy_registry(tmp_path / "registry")
    turn = example_turns("regression_INC_001")[3]
    incident = root / "incidents" / "INC_001" / "incident.yaml"
    text = incident.read_text(encoding="utf-8")
    assert "summary: |\n" in text
    incident.write_text(text.replace("summary: |\n", f"summary: |\n  The user wrote: {turn}\n", 1), encoding="utf-8")
    result = run_cli("site", "generate", "--public", "--as-of", AS_OF, "--out", str(tmp_path / "out"), cwd=root)
    assert result.code == 1, result.err
    assert "incidents/INC_001/index.md:" in result.err
    assert "[site.redacted] shows the redacted regression.turns of regression_INC_001" in result.err
    assert turn not in result.err  # the finding names the field, never the text
    assert not (tmp_path / "out").exists()


def test_a_policy_that_redacts_dates_states_numbers_and_whole_parts_gives_a_build_not_a_traceback(tmp_path):
    from conftest import run_cli
    from site_support import AS_OF, copy_registry

    root = copy_registry(tmp_path / "registry")
    policy = root / "incidentops.yaml"
    text = policy.read_text(encoding="utf-8")
    redact = ("regression.turns, incident.detected_at, incident.status, incident.assessment, incident.timeline.event,"
              " incident.reported_by, regression.decisions.at, regression.severity_weight, postmortem.meeting_at,"
              " postmortem.action_items.due, handoff.regression_test")
    assert "  redact: [regression.turns]\n" in text
    policy.write_text(text.replace("  redact: [regression.turns]\n", f"  redact: [{redact}]\n"), encoding="utf-8")
    result = run_cli("site", "generate", "--public", "--as-of", AS_OF, "--out", str(tmp_path / "out"), cwd=root)
    # the redacted values are empty on the pages; where another record or a figure still writes the same
    # text (a test id, a decision's date), the last check refuses the build and names the field, not the text
    assert result.code in (0, 1), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    assert all("[site.redacted]" in line for line in result.err.splitlines() if "error [" in line)
