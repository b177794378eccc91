"""Safe loading: every hostile or broken input becomes a located finding, never a traceback."""

from __future__ import annotations

import pytest

from incidentops.records.yamlio import MAX_BYTES, load_bytes


def rules(doc):
    return [(f.rule, f.line, f.col) for f in doc.findings]


def test_scalars_keep_timestamps_as_strings_and_resolve_only_core_types():
    doc = load_bytes(b'a: 2026-03-10T14:05:00Z\nb: 2026-03-10\nc: 3\nd: 0.8\ne: true\nf: null\ng: "017"\n', "x.yaml")
    assert doc.data == {"a": "2026-03-10T14:05:00Z", "b": "2026-03-10", "c": 3, "d": 0.8, "e": True,
                        "f": None, "g": "017"}
    assert doc.findings == []


def test_positions_of_keys_and_values():
    doc = load_bytes(b"# c\nid: INC_001\nescalations:\n  - team: Legal\n    at: x\n", "x.yaml")
    assert doc.where(("id",)) == (2, 5)
    assert doc.where(("escalations", 0, "team")) == (4, 11)
    assert doc.where(("escalations", 0, "at"), key=True) == (5, 5)
    assert doc.where(("escalations", 0, "missing")) == (4, 5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a: 1\nb: 2\na: 3\n", [("yaml.duplicate-key", 3, 1)]),
        (b"a: &x [1]\nb: *x\n", [("yaml.anchor", 1, 4), ("yaml.alias", 2, 4)]),
        (b"a: 1\n---\nb: 2\n", [("yaml.multi-document", 2, 1)]),
        (b"a:\n\tb: 1\n", [("yaml.tab", 2, 1)]),
        (b"\xef\xbb\xbfa: 1\n", [("yaml.bom", 1, 1)]),
        (b"a: 1\nb: caf\xe9\n", [("yaml.encoding", 2, 7)]),
        (b"# nothing but a comment\n", [("yaml.empty", 1, 1)]),
        (b"", [("yaml.empty", 1, 1)]),
        (b"a: b: c\n", [("yaml.syntax", 1, 5)]),
        (b"- 1\n- 2\n", [("yaml.not-a-mapping", 1, 1)]),
        (b"a: !!python/object:os.system x\n", [("yaml.tag", 1, 4)]),
        (b"status: NO\n", [("yaml.ambiguous-bool", 1, 9)]),
        (b"x: on\n", [("yaml.ambiguous-bool", 1, 4)]),
        (b"code: 017\n", [("yaml.ambiguous-number", 1, 7)]),
        (b"? [a]\n: 1\n", [("yaml.complex-key", 1, 3)]),
    ],
)
def test_bad_input_gives_located_findings(raw, expected):
    doc = load_bytes(raw, "x.yaml")
    assert rules(doc) == expected


def test_absurd_nesting_is_rejected_without_recursion():
    doc = load_bytes(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "x.yaml")
    assert [f.rule for f in doc.findings] == ["yaml.too-deep"]
    assert doc.data is None


def test_billion_laughs_is_rejected_not_expanded():
    lol = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((c,) * 2 + (c - 1,) * 9)
        for c in range(ord("b"), ord("j"))
    )
    doc = load_bytes(lol, "x.yaml")
    assert any(f.rule == "yaml.alias" for f in doc.findings)


def test_file_over_the_size_cap():
    doc = load_bytes(b"a: " + b"x" * (MAX_BYTES + 1), "x.yaml")
    assert rules(doc) == [("yaml.too-large", 1, 1)]


def test_front_matter_positions_are_file_lines():
    doc = load_bytes(b"---\nincident: INC_001\n# c\nstatus: x\n---\n## Summary\n", "p.md", markdown=True)
    assert doc.data == {"incident": "INC_001", "status": "x"}
    assert doc.where(("status",)) == (4, 9)
    assert doc.body_line == 6


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"## Summary\nno front matter\n", [("frontmatter.missing", 1, 1)]),
        (b"---\nincident: INC_001\n## Summary\n", [("frontmatter.unclosed", 1, 1)]),
        (b"---\na: 1\na: 2\n---\n", [("yaml.duplicate-key", 3, 1)]),
    ],
)
def test_front_matter_problems(raw, expected):
    assert rules(load_bytes(raw, "p.md", markdown=True)) == expected
