"""docs/configuration.md's tables: every field of every settings class, by its environment variable."""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings

from tools.docgen.markdown import prose, table


def settings_classes() -> list[tuple[str, type[BaseSettings]]]:
    """The settings classes, each with the heading it gets (imported here: the docs see what runs)."""
    from client_node.core.config import ClientSettings
    from server_node.core.config import ServerSettings
    from shared.config import ModelSettings

    return [("Both nodes: models", ModelSettings), ("Client node", ClientSettings), ("Server node", ServerSettings)]


def env_variables() -> set[str]:
    """Every environment variable the settings classes read."""
    return {_env_name(cls, name) for _, cls in settings_classes() for name in cls.model_fields}


def _env_name(cls: type[BaseSettings], field: str) -> str:
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    if "anyOf" in schema:
        kinds = [_type(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return " | ".join(kinds) + (" or unset" if len(kinds) < len(schema["anyOf"]) else "")
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return {"string": "text", "integer": "integer", "number": "number", "boolean": "true/false"}.get(
        schema.get("type", ""), schema.get("type", "any"))


def _bounds(schema: dict[str, Any]) -> str:
    words = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "below"}
    parts = [f"{op} {schema[key]:g}" for key, op in words.items() if key in schema]
    if "pattern" in schema:
        parts.append(f"matches `{schema['pattern']}`")
    return ", ".join(parts)


def _default(field: Any, schema: dict[str, Any]) -> str:
    if "x-default" in schema:
        return f"`{schema['x-default']}`"
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    if field.default is None:
        return "unset"
    value = getattr(field.default, "value", field.default)
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def settings_table(cls: type[BaseSettings]) -> str:
    schema = cls.model_json_schema()
    properties, definitions = schema["properties"], schema.get("$defs", {})
    rows = []
    for name, field in cls.model_fields.items():
        prop = properties[name]
        ref = prop.get("$ref", "").rsplit("/", 1)[-1]
        shown = {**definitions[ref], **{k: v for k, v in prop.items() if k != "$ref"}} if ref in definitions else prop
        kind, bounds = _type(shown), _bounds(prop)
        rows.append((f"`{_env_name(cls, name)}`", kind + (f" ({bounds})" if bounds else ""),
                     _default(field, prop), field.description or ""))
    return table(["variable", "type", "default", "meaning"], rows)


def render_settings() -> str:
    parts = []
    for heading, cls in settings_classes():
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        parts.append(f"### {heading} (`{cls.__name__}`)\n\n{prose(doc)}\n\n{settings_table(cls)}")
    return "\n\n".join(parts)
