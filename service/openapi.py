"""OpenAPI: the schema at /schema, an offline Swagger UI, auth schemes and documented error responses."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any, get_args

from litestar import Litestar
from litestar.file_system import BaseLocalFileSystem
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, OpenAPIFormat, OpenAPIType, Schema, SecurityScheme, Server, Tag
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.types import FileInfo, PathType
from msgspec import Meta, Struct

from service.fields import TagName

DOCS_ASSETS_PATH = "/schema-assets"

REQUIRED_AUTH: list[dict[str, list[str]]] = [{"Token": []}]
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {"Token": []}]


class GenericErrorModel(Struct):
    """The spec's error body: field name -> messages; `body` for errors not tied to one field."""

    errors: dict[str, list[str]]


_DESCRIPTIONS = {
    401: "Missing, malformed or expired token, or wrong credentials",
    403: "Authenticated, but not the author",
    404: "No such resource",
    413: "Request body larger than the configured cap",
    422: "Invalid input; `errors` is keyed by field",
    429: "Too many requests or failed logins; see Retry-After",
}


def responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """The error responses an operation documents, all with the spec's error body."""
    return {
        code: ResponseSpec(data_container=GenericErrorModel, description=_DESCRIPTIONS[code], generate_examples=False)
        for code in status_codes
    }


def refine_openapi_schema(app: Litestar) -> None:
    """Finish the generated schema once, at start-up, so it describes what the service really does.

    - Litestar documents a 400 for every operation with parameters; this service answers every
      invalid input with the spec's 422 (errors.py), so the 400 entries would be false.
    - Timestamps are pre-formatted strings (spec quirk Q1, docs/spec-quirks.md); mark them `date-time` for clients.
    """
    openapi = app.openapi_schema  # built once and cached: the changes below are what /schema serves
    for path_item in (openapi.paths or {}).values():
        for operation in (path_item.get, path_item.put, path_item.post, path_item.delete):
            if operation is not None and operation.responses:
                operation.responses.pop("400", None)
    schemas = openapi.components.schemas if openapi.components and openapi.components.schemas else {}
    for schema in schemas.values():
        for name, prop in (schema.properties or {}).items():
            if name in ("createdAt", "updatedAt") and isinstance(prop, Schema):
                prop.format = OpenAPIFormat.DATE_TIME
    _declare_request_rules(schemas)


def _declare_request_rules(schemas: dict[str, Schema]) -> None:
    """Rules the service enforces that Litestar 2 leaves out of the generated schema.

    - It drops the constraints of list items, so `tagList` items would look like any string.
    - An update must change at least one field (the services answer 422 otherwise).
    """
    new_article = schemas.get("NewArticle")
    tag_list = (new_article.properties or {}).get("tagList") if new_article else None
    if isinstance(tag_list, Schema):
        tag: Meta = get_args(TagName)[1]
        tag_list.items = Schema(
            type=OpenAPIType.STRING,
            min_length=tag.min_length,
            max_length=tag.max_length,
            pattern=tag.pattern,
            examples=tag.examples,
        )
    for name in ("UpdateArticle", "UpdateUser"):
        if name in schemas:
            schemas[name].min_properties = 1


def swagger_assets_dir() -> Path:
    # Found, not imported: importing swagger_ui brings Jinja2 into every worker (~4 MiB of RSS),
    # and only its static files are served.
    spec = find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("swagger-ui-py is not installed")
    return Path(spec.origin).parent / "static"


class AssetFileSystem(BaseLocalFileSystem):
    """The local file system, where a name the OS refuses to look up (too long, say) is simply not
    found: Litestar turns any OSError but "not found" into a 500."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except OSError as error:
            raise FileNotFoundError(str(path)) from error


def create_docs_assets_router() -> Router:
    """Swagger UI's files from the swagger-ui-py package, so the docs work with no network."""
    return create_static_files_router(
        path=DOCS_ASSETS_PATH,
        directories=[swagger_assets_dir()],
        file_system=AssetFileSystem(),
        include_in_schema=False,
        name="docs-assets",
    )


def create_openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Conduit API",
        version=version,
        description="Authenticate with `Authorization: Token <jwt>` (the `token` field of any user response).",
        path="/schema",
        servers=[Server(url="/", description="this server")],
        tags=[Tag(name=name) for name in ("users", "profiles", "articles", "comments", "tags", "health")],
        components=Components(
            security_schemes={
                "Token": SecurityScheme(
                    type="apiKey",
                    name="Authorization",
                    security_scheme_in="header",
                    description="`Token <jwt>` (the word Token, one space, the JWT; `Bearer` also accepted)",
                )
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS_PATH}/favicon-32x32.png'>",
            ),
            JsonRenderPlugin(),
            YamlRenderPlugin(),
        ],
    )
