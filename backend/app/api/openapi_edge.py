"""State the edge's string rule (api/edge_text.py) in the OpenAPI document.

Every string a request may carry is refused (422) when it holds NUL, a lone surrogate or a C0
control; the document says so with a `pattern` on each request string that has none of its
own (an enum, a format or a stricter pattern already excludes them). JSON body text may span
lines (TAB, LF, CR); parameters and form fields may not. Applied once to the generated
document, so a new route is covered without repeating the rule on each field.
"""

from __future__ import annotations

from typing import Any

# ECMA-262 and Python `re` both read \\uXXXX escapes.
ONE_LINE = r"^[^\u0000-\u001f\u007f]*$"
MULTI_LINE = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_NESTED = ("anyOf", "oneOf", "allOf", "prefixItems")


def state_string_rules(document: dict[str, Any]) -> None:
    """Add the patterns to `document` in place."""
    components = document.get("components", {}).get("schemas", {})
    done: set[tuple[str, str]] = set()
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters", ()):
                _apply(param.get("schema", {}), ONE_LINE, components, done)
            content = operation.get("requestBody", {}).get("content", {})
            for media, body in content.items():
                if media in _FORM_TYPES:
                    _form_fields_only(body.get("schema", {}), components)
                pattern = ONE_LINE if media in _FORM_TYPES else MULTI_LINE
                _apply(body.get("schema", {}), pattern, components, done)


def _form_fields_only(schema: dict[str, Any], components: dict[str, Any]) -> None:
    """Unknown form fields are still strings the edge checks: say so."""
    ref = schema.get("$ref", "")
    target = components.get(ref.rsplit("/", 1)[-1], schema) if ref else schema
    if target.get("type") == "object" and "additionalProperties" not in target:
        target["additionalProperties"] = {"type": "string"}


def _apply(
    schema: Any, pattern: str, components: dict[str, Any], done: set[tuple[str, str]]
) -> None:
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if (name, pattern) not in done and name in components:
            done.add((name, pattern))
            _apply(components[name], pattern, components, done)
        return
    if schema.get("type") == "string" and not {"enum", "const", "format", "pattern"} & set(schema):
        schema["pattern"] = pattern
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        schema.setdefault("propertyNames", {"pattern": pattern})  # keys are checked too
    for key in _NESTED:
        for sub in schema.get(key, ()):
            _apply(sub, pattern, components, done)
    for sub in schema.get("properties", {}).values():
        _apply(sub, pattern, components, done)
    for key in ("items", "additionalProperties"):
        _apply(schema.get(key), pattern, components, done)
