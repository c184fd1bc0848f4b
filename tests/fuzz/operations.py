"""The operations to fuzz, read from the app itself: its routes, and its OpenAPI schema where documented."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

JsonSchema = dict[str, Any]
# Litestar adds an OPTIONS handler to every path; the fuzzer reaches it by changing the method.
AUTOMATIC_METHODS = frozenset({"OPTIONS"})


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" or "query"
    schema: JsonSchema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # a template: /api/articles/{slug}
    parameters: tuple[Parameter, ...]
    body_schema: JsonSchema | None
    documented: frozenset[int]  # every status in the schema; empty for routes the schema leaves out
    accepts_token: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def success(self) -> frozenset[int]:
        return frozenset(status for status in self.documented if 200 <= status < 300)


def operations_of(app: Litestar) -> list[Operation]:
    """Every method of every route, so a new endpoint is fuzzed without editing the fuzzer."""
    schema = app.openapi_schema.to_schema() if app.openapi_config else {}
    operations = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - AUTOMATIC_METHODS):
                documented = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
                operations.append(_operation(method, route, documented, schema))
    return sorted(operations, key=str)


def _operation(method: str, route: HTTPRoute, documented: JsonSchema | None, schema: JsonSchema) -> Operation:
    if documented is None:  # docs pages, static files, metrics: only the route's own path parameters
        parameters = tuple(
            Parameter(name, "path", _type_schema(definition.type)) for name, definition in route.path_parameters.items()
        )
        return Operation(method, route.path_format, parameters, None, frozenset(), accepts_token=False)
    parameters = tuple(
        Parameter(item["name"], item["in"], resolve(item.get("schema", {}), schema))
        for item in documented.get("parameters", [])
    )
    content = documented.get("requestBody", {}).get("content", {}).get("application/json")
    body_schema = resolve(content["schema"], schema) if content else None
    statuses = frozenset(int(status) for status in documented.get("responses", {}))
    accepts_token = any("Token" in requirement for requirement in documented.get("security", []))
    return Operation(method, route.path_format, parameters, body_schema, statuses, accepts_token)


def _type_schema(python_type: type) -> JsonSchema:
    return {"type": "integer"} if python_type is int else {"type": "string"}


def resolve(node: Any, schema: JsonSchema) -> Any:
    """`node` with every `$ref` to the schema's components replaced by its target (they are not recursive)."""
    if isinstance(node, list):
        return [resolve(item, schema) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        return resolve(schema["components"]["schemas"][name], schema)
    return {key: resolve(value, schema) for key, value in node.items()}
