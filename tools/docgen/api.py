"""docs/api.md's reference: every route of both services and every schema they use, from their OpenAPI
specs (built without starting the services: the apps' state is made at start-up, not by ``create_app``)."""

from __future__ import annotations

from typing import Any

from tools.docgen.markdown import prose, table

_METHODS = ("get", "post", "put", "patch", "delete")


def service_specs() -> list[tuple[str, dict[str, Any]]]:
    from client_node.main import create_app as create_client
    from server_node.main import create_app as create_server

    return [("Client node", create_client().openapi()), ("Server node", create_server().openapi())]


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema as a short type: `Model`, `list of text`, `"a" | "b"`, `text or null`."""
    if "$ref" in schema:
        return f"`{_name(schema['$ref'])}`"
    if "enum" in schema:
        return " | ".join(f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']!r}`"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [type_of(s) for s in schema[key] if s.get("type") != "null"]
            nullable = len(kinds) < len(schema[key])
            return " | ".join(kinds) + (" or null" if nullable else "")
    kind = schema.get("type")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_of(schema['additionalProperties'])}"
    if schema.get("format") == "binary":
        return "bytes"
    return {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean",
            "object": "object", "null": "null"}.get(str(kind), "any")


def constraints(schema: dict[str, Any]) -> str:
    words = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "below",
             "minLength": "length ≥", "maxLength": "length ≤", "minItems": "items ≥", "maxItems": "items ≤"}
    parts = [f"{op} {schema[key]:g}" for key, op in words.items() if key in schema]
    if "pattern" in schema:
        parts.append(f"matches `{schema['pattern']}`")
    for key in ("anyOf", "oneOf"):
        parts += [c for s in schema.get(key, []) if (c := constraints(s))]
    return ", ".join(parts)


def _default(schema: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" in schema:
        value = schema["default"]
        return "null" if value is None else f"`{value}`" if not isinstance(value, bool) else f"`{str(value).lower()}`"
    return ""


def _description(schema: dict[str, Any]) -> str:
    return prose(str(schema.get("description", "")))


def _parameters(operation: dict[str, Any]) -> str:
    rows = []
    for p in operation.get("parameters", []):
        schema = p.get("schema", {})
        rows.append((f"`{p['name']}` ({p['in']})", type_of(schema), constraints(schema),
                     _default(schema, bool(p.get("required"))), _description(p) or _description(schema)))
    return table(["parameter", "type", "limits", "default", "meaning"], rows) if rows else ""


def _body(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    parts = []
    for media, item in content.items():
        schema = item.get("schema")
        parts.append(f"`{media}`" + (f": {type_of(schema)}" if schema else ""))
    return "Body: " + "; ".join(parts) + "." if parts else ""


def _responses(operation: dict[str, Any]) -> str:
    rows = []
    for status, response in sorted(operation.get("responses", {}).items()):
        content = response.get("content", {})
        kinds = [f"`{m}`" + (f" {type_of(c['schema'])}" if c.get("schema") else "") for m, c in content.items()]
        rows.append((status, ", ".join(kinds), response.get("description", "")))
    return table(["status", "body", "what"], rows)


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    text = _description(operation) or operation.get("summary", "")
    parts = [f"#### `{method.upper()} {path}`", text, _parameters(operation), _body(operation), _responses(operation)]
    return "\n\n".join(p for p in parts if p)


def _schema(name: str, schema: dict[str, Any]) -> str:
    intro = _description(schema)
    if "enum" in schema:
        return f"#### `{name}`\n\n{intro}\n\nOne of: {type_of(schema)}.".replace("\n\n\n\n", "\n\n")
    required = set(schema.get("required", []))
    rows = [(f"`{field}`", type_of(prop), constraints(prop), _default(prop, field in required), _description(prop))
            for field, prop in schema.get("properties", {}).items()]
    extra = "" if schema.get("additionalProperties", True) else "Unknown fields are refused (422 `request_invalid`)."
    body = table(["field", "type", "limits", "default", "meaning"], rows) if rows else ""
    return "\n\n".join(p for p in (f"#### `{name}`", intro, extra, body) if p)


def render_service(title: str, spec: dict[str, Any]) -> str:
    parts = [f"### {title}: routes"]
    for path, operations in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in operations:
                parts.append(_operation(method, path, operations[method]))
    return "\n\n".join(parts)


def render_api() -> str:
    specs = service_specs()
    parts = [render_service(title, spec) for title, spec in specs]
    schemas: dict[str, dict[str, Any]] = {}
    for _, spec in specs:
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(name, schema)
    parts.append("### Schemas (both services)")
    parts += [_schema(name, schemas[name]) for name in sorted(schemas)]
    return "\n\n".join(parts).replace("\n\n\n", "\n\n") + "\n"

