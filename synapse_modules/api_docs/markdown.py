"""``docs/api.md``: the OpenAPI document as a Markdown reference, generated, never edited.

Regenerate with ``.venv/bin/python -m hearth.synapse_modules.api_docs > docs/api.md``; a unit
test fails when the file and the document disagree.
"""

from __future__ import annotations

from typing import Any

from hearth.synapse_modules.api_docs.document import OPENAPI_PATH, Json, build_document

METHODS = ("get", "put", "post", "delete")


def _type(schema: Json) -> str:
    """A schema in a few words: ``string``, ``integer or null``, ``Assignment``..."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for combiner, word in (("allOf", " and "), ("oneOf", " or "), ("anyOf", " or ")):
        if combiner in schema:
            return word.join(_type(part) for part in schema[combiner])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if "enum" in schema:
        return " or ".join(f"`{value}`" for value in schema["enum"])
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    return str(kind)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fields(schema: Json) -> list[str]:
    required = set(schema.get("required", ()))
    rows = ["| Field | Type | Required | Notes |", "| --- | --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        notes = field.get("description", "")
        if "examples" in field:
            notes = f"{notes} e.g. `{field['examples'][0]}`".strip()
        rows.append(f"| `{name}` | {_cell(_type(field))} | {'yes' if name in required else 'no'}"
                    f" | {_cell(notes)} |")
    if schema.get("additionalProperties") is False:
        rows.append("| (any other) | | | refused |")
    return rows


def _operation(method: str, path: str, operation: Json, shared: list[Json],
               authenticated: bool) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", operation["summary"] + ".", ""]
    if operation.get("description"):
        lines += [operation["description"], ""]
    lines += ["Authentication: " + ("an access token (`Authorization: Bearer ...`)."
                                    if authenticated else "none."), ""]
    parameters = [*shared, *operation.get("parameters", ())]
    if parameters:
        lines += ["| Parameter | In | Type | Required | Notes |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| `{p['name']}` | {p['in']} | {_cell(_type(p['schema']))} | "
                  f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description', ''))} |"
                  for p in parameters]
        lines.append("")
    body = operation.get("requestBody")
    if body is not None:
        for content_type, media in body["content"].items():
            optional = "" if body.get("required") else " (optional)"
            lines += [f"Request body{optional}: `{content_type}`.", ""]
            schema = media["schema"]
            if schema.get("properties"):
                lines += [*_fields(schema), ""]
            elif schema.get("description"):
                lines += [schema["description"], ""]
    lines += ["| Status | Meaning | Body |", "| --- | --- | --- |"]
    for status, response in operation["responses"].items():
        bodies = ", ".join(f"{_type(media['schema'])} (`{kind}`)"
                           for kind, media in response.get("content", {}).items())
        lines.append(f"| {status} | {_cell(response['description'])} | {_cell(bodies)} |")
    answer = operation["responses"].get("200", {}).get("content", {}).get("application/json")
    if answer is not None:
        parts = answer["schema"].get("allOf", [answer["schema"]])
        inline = [part for part in parts if part.get("properties")]
        if inline:
            based = [_type(part) for part in parts if "$ref" in part]
            lines += ["", "Answer fields" + (f" (besides those of {', '.join(based)})"
                                             if based else "") + ":", ""]
            lines += _fields({"properties": {k: v for part in inline
                                             for k, v in part["properties"].items()},
                              "required": [r for part in inline
                                           for r in part.get("required", ())]})
    return [*lines, ""]


def render_markdown(document: Json) -> str:
    """The whole reference: an introduction, then each tag's operations, then the schemas."""
    lines = ["# HTTP API reference", "",
             "<!-- Generated from synapse_modules/api_docs/document.py by "
             "`python -m hearth.synapse_modules.api_docs`; do not edit by hand. -->", "",
             document["info"]["description"], "",
             f"The server serves this description as OpenAPI {document['openapi']} at "
             f"`GET {OPENAPI_PATH}` (only the sections of the modules it runs).", ""]
    default_auth = bool(document.get("security"))
    for tag in document["tags"]:
        operations = [(method, path, item)
                      for path, item in document["paths"].items() for method in METHODS
                      if method in item and tag["name"] in item[method]["tags"]]
        if not operations:
            continue
        lines += [f"## {tag['name']}", ""]
        for method, path, item in operations:
            operation = item[method]
            authenticated = bool(operation.get("security", default_auth))
            lines += _operation(method, path, operation, item.get("parameters", []),
                                authenticated)
    lines += ["## Schemas", ""]
    for name, schema in document["components"]["schemas"].items():
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        lines += [*_fields(schema), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def reference() -> str:
    """The reference for a server running every module."""
    return render_markdown(build_document())
