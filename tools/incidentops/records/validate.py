"""JSON Schema validation of one record, with each error located at path:line:col."""

from __future__ import annotations

import difflib
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from incidentops.records.findings import ERROR, Finding
from incidentops.records.schemas import load_schema
from incidentops.records.yamlio import Document, label

if TYPE_CHECKING:
    import jsonschema

_FORMAT_HINTS = {
    "date-time": "write an RFC 3339 timestamp in quotes, such as \"2026-03-10T14:05:00Z\"",
    "date": "write a real calendar date in quotes, such as \"2026-03-10\"",
    "uri": "write a full URL such as https://tracker.example/ISSUE-12",
    "email": "write an e-mail address",
}
_TYPE_NAMES = {
    "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "object": "a mapping of fields", "array": "a list", "null": "nothing (null)",
}


@cache
def _fast(name: str) -> Any:
    schema = load_schema(name)
    return None if schema is None else jsonschema_rs.validator_for(schema, validate_formats=True)


@cache
def _detailed(name: str) -> Any:
    """The pure-Python validator, only for records already known to be invalid: its
    error objects carry the paths and details the findings need. Imported lazily
    because its format checkers take a noticeable time to load."""
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _field_hint(schema: dict[str, Any]) -> str:
    return str(schema.get("description", ""))


def _error_findings(doc: Document, error: jsonschema.ValidationError) -> list[Finding]:
    path = tuple(error.absolute_path)
    where = label(path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    rule = f"schema.{validator}"
    if validator == "required":
        missing = [name for name in error.validator_value if isinstance(value, dict) and name not in value]
        props = schema.get("properties", {})
        return [
            doc.finding(
                path, ERROR, rule,
                f"{where + ': ' if path else ''}missing required field '{name}'",
                f"add `{name}:`" + (f" ({_field_hint(props.get(name, {}))})" if props.get(name) else ""),
            )
            for name in missing
        ]
    if validator in ("additionalProperties", "unevaluatedProperties"):
        known = list(schema.get("properties", {}))
        extras = [k for k in value if k not in known] if isinstance(value, dict) else []
        out = []
        for key in extras:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
            out.append(
                doc.finding((*path, key), ERROR, "schema.unknown-key",
                            f"unknown field '{key}'" + (f" in {where}" if path else ""), hint, key=True)
            )
        return out
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        return [doc.finding(
            path, ERROR, rule, f"{where}: {_describe(value)} is not one of {', '.join(options)}",
            f"did you mean '{close[0]}'?" if close else _field_hint(schema),
        )]
    if validator == "const":
        return [doc.finding(path, ERROR, rule, f"{where}: must be {error.validator_value!r}, not {_describe(value)}")]
    if validator == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        hint = _field_hint(schema)
        if "boolean" in names and isinstance(value, str):
            hint = "write true or false (unquoted)"
        elif "string" in names and value is not None and not isinstance(value, (dict, list)):
            hint = f"put the value in quotes: \"{value}\""
        return [doc.finding(path, ERROR, rule, f"{where}: expected {wanted}, got {_describe(value)}", hint)]
    if validator == "format":
        fmt = str(error.validator_value)
        return [doc.finding(path, ERROR, rule, f"{where}: {_describe(value)} is not a valid {fmt}",
                            _FORMAT_HINTS.get(fmt, ""))]
    if validator == "pattern":
        return [doc.finding(path, ERROR, rule,
                            f"{where}: {_describe(value)} does not have the expected form",
                            _field_hint(schema) or f"expected to match {error.validator_value}")]
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [doc.finding(path, ERROR, rule, f"{where}: {error.message}", _field_hint(schema))]
    if validator in ("minItems", "maxItems", "minLength", "maxLength", "uniqueItems"):
        what = {"minItems": "needs at least {} item(s)", "maxItems": "allows at most {} item(s)",
                "minLength": "must not be empty" , "maxLength": "is longer than {} characters",
                "uniqueItems": "has repeated items"}[validator]
        return [doc.finding(path, ERROR, rule, f"{where}: {what.format(error.validator_value)}",
                            _field_hint(schema))]
    if validator in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        return _error_findings(doc, best) if best is not None else []
    return [doc.finding(path, ERROR, rule, f"{where}: {error.message}", _field_hint(schema))]


def prepare(schema_name: str) -> None:
    """Compile the validator of ``schema_name`` now (e.g. once, before forking workers)."""
    _fast(schema_name)


def validate(doc: Document, schema_name: str) -> list[Finding]:
    """Validate a parsed record against its schema. Fast path first; details only when invalid."""
    if doc.data is None:
        return []
    fast = _fast(schema_name)
    if fast is None or fast.is_valid(doc.data):
        return []
    findings: list[Finding] = []
    for error in sorted(_detailed(schema_name).iter_errors(doc.data), key=lambda e: [str(p) for p in e.absolute_path]):
        findings.extend(_error_findings(doc, error))
    return findings


def schema_failed(doc: Document, path: tuple[str | int, ...]) -> bool:
    """Whether the value at ``path`` failed its schema (a ``schema.*`` finding where it is written).

    Cross-record rules skip such values: advice reasoned from a value the schema refused
    (copy ``SEV-5``, set a review type for it) would be wrong.
    """
    line, _col = doc.where(path)
    return any(f.rule.startswith("schema.") and f.line == line for f in doc.findings)
