"""The package layout: every import runs down the pipeline, and no module imports itself round a circle.

The packages stand in this order, each using only those before it:

    records -> policy -> lifecycle -> checks -> gate -> site | scaffold | inspect -> cli

(site, scaffold and inspect stand side by side and do not use each other.)

Every import counts, the ones inside functions too: a lazy import that closes a
circle is still a circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "tools" / "incidentops"
ORDER = {"records": 0, "policy": 1, "lifecycle": 2, "checks": 3, "gate": 4, "site": 5, "scaffold": 5,
         "inspect": 5, "cli": 6}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str) -> str:
    """The module a dotted name means: the name itself, or the package or module that holds it."""
    while name:
        base = PACKAGE.parent / name.replace(".", "/")
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return name
        name = name.rpartition(".")[0]
    return name


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                if base.split(".")[0] != "incidentops":
                    continue
                for alias in node.names:
                    targets.add(_resolve(f"{base}.{alias.name}"))
            elif isinstance(node, ast.Import):
                targets.update(_resolve(a.name) for a in node.names if a.name.split(".")[0] == "incidentops")
        targets.discard(module)
        graph[module] = {t for t in targets if t != "incidentops"}
    return graph


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ORDER else None


def test_the_package_holds_only_the_pipeline_packages():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == []
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(ORDER)


def test_every_import_runs_down_the_pipeline():
    def allowed(module: str, target: str) -> bool:
        here, there = _stage(module), _stage(target)
        if here is None or there is None or here == there:
            return True
        return ORDER[there] < ORDER[here]  # a lower stage; the packages of one stage do not use each other

    wrong = sorted(f"{module} -> {target}" for module, targets in _graph().items() for target in targets
                   if not allowed(module, target))
    assert wrong == []


def test_no_import_circle():
    graph = _graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:  # depth-first search; a grey node met again closes a circle
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert circles == []


def test_every_package_says_what_it_holds_and_what_it_may_use():
    for name in ORDER:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 200, name
        assert "May use" in doc, name


# --- typed records: only records/ looks at the shape of a record's data --------------------------

#: modules outside records/ that test a value's type, and the data that is not a record they test.
#: A record's fields are typed once, by records/model.py; a new module here needs a reason of this kind.
TYPE_TESTS_OF_OTHER_DATA = {
    "checks/cache.py": "the result cache file the tool keeps between runs",
    "cli/__init__.py": "click's command objects",
    "cli/_examples.py": "click's command objects",
    "cli/assess.py": "answers typed at the command line",
    "cli/site.py": "the class of an exception",
    "gate/inspect_log.py": "an Inspect AI log",
    "gate/jsonl.py": "a runner's JSONL results",
    "gate/promptfoo.py": "promptfoo's results JSON",
    "gate/refusal.py": "the context promptfoo passes to an assertion",
    "inspect/task.py": "Inspect AI's messages and sample metadata",
    "lifecycle/approvals.py": "the git host's review JSON",
    "lifecycle/ceremony.py": "the class of an exception",
    "lifecycle/decay.py": "an argument given ready-made or to be indexed",
    "lifecycle/history.py": "paths given as text or PurePath",
    "lifecycle/notify.py": "the queue file of notices not yet delivered",
    "lifecycle/prcheck.py": "the class of a cached typed record",
    "scaffold/init_files.py": "pip's direct_url.json",
    "site/leaks.py": "the built site's search index",
    "site/markup.py": "a filter that prints a boolean as yes/no",
    "site/pages.py": "filters that print a datetime or a number of minutes",
    "site/reference.py": "the JSON schemas",
    "site/responder.py": "a filter that prints a boolean as yes/no",
    "site/settings.py": "mkdocs.yml",
    "site/zensical_engine.py": "mkdocs.yml",
}


def _type_tests(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(1 for node in ast.walk(tree)
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance")


def test_only_records_tests_the_type_of_record_data():
    testing = {path.relative_to(PACKAGE).as_posix() for path in sorted(PACKAGE.rglob("*.py"))
               if path.relative_to(PACKAGE).parts[0] != "records" and _type_tests(path)}
    assert testing - set(TYPE_TESTS_OF_OTHER_DATA) == set(), (
        "these modules test the type of a value: take a typed record (records/model.py) instead, or say here"
        " which data that is not a record they read")
    assert set(TYPE_TESTS_OF_OTHER_DATA) - testing == set(), "no longer tests a type: take it off the list"


def test_no_template_tests_the_type_of_a_value():
    tests = re.compile(r"\bis\s+(?:not\s+)?(?:mapping|string|sequence|iterable|number|integer|float|boolean)\b")
    found = [f"{path.name}:{number}" for path in sorted((PACKAGE / "site" / "templates").glob("*.j2"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if tests.search(line)]
    assert found == []


def test_the_registry_hands_out_typed_records_or_documents():
    import inspect
    import typing

    from incidentops.records.registry import Registry

    raw = []
    for name, member in inspect.getmembers(Registry):
        if name.startswith("_") or name == "policy":  # policy: the cache key's data (analyses use policy_record)
            continue
        function = member.fget if isinstance(member, property) else getattr(member, "func", member)
        if not callable(function):
            continue
        annotation = str(typing.get_type_hints(function).get("return", ""))
        if "Any" in annotation:
            raw.append(f"{name} -> {annotation}")
    assert raw == []


# --- docs: every rule a finding can carry is documented -----------------------------------------

_RULE_ID = re.compile(r"^[a-z]+\.[a-z0-9]+(?:-[a-z0-9]+)*$")


def _rule_ids() -> dict[str, str]:
    """Rule id -> module, for every ``finding(path, level, RULE, ...)`` / ``Finding(..., RULE, ...)`` whose
    rule is a literal or a module constant (rules built at run time, such as ``schema.*``, are left out)."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                     for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            index = {"finding": 2, "Finding": 4}.get(name)
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            value = arg.value if isinstance(arg, ast.Constant) else (
                constants.get(arg.id) if isinstance(arg, ast.Name) else None)
            if isinstance(value, str) and _RULE_ID.match(value):
                found.setdefault(value, path.relative_to(PACKAGE).as_posix())
    return found


def test_every_rule_id_is_documented_in_the_readme_or_pr_check_help():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pr_help = (PACKAGE / "cli" / "prcheck.py").read_text(encoding="utf-8")
    ids = _rule_ids()
    assert len(ids) > 90  # the scan finds the rules (it would pass vacuously on a broken pattern)
    missing = sorted(f"{rule} ({module})" for rule, module in ids.items()
                     if f"`{rule}`" not in readme
                     and not (rule.startswith("pr.") and re.search(rf"[ (]{re.escape(rule)}[ :]", pr_help)))
    assert missing == [], "document these rules in the README's tables (pr.* rules: in `pr-check --help`)"
