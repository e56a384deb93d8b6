"""/api/v1/openapi.json: the API described from the same pydantic models that validate it.

Each resource module declares its routes once, on their views (``routes``, a
:class:`web.api.routes.Routes`): :func:`document` takes the paths and the component models from
those declarations, for ``web.api.RESOURCE_MODULES``, the admin scheduler API and ``/healthz``.
Only this document's own route is written out here.
``tests/integration/test_openapi.py`` keeps this true: every route of the app is described, every
described route exists, and real responses validate against the schemas given here.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from web.api import schemas

REF = "#/components/schemas/{model}"
REASONS = {
    400: "Invalid input",
    401: "Missing or invalid token",
    403: "The token's role may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Not JSON",
    422: "Idempotency-Key reused with another body",
    429: "Rate limited, or too many wrong tokens from this address (see Retry-After)",
    502: "An upstream service (an OAuth provider) failed",
    503: "Redis unavailable or full, or an upstream circuit breaker is open (see Retry-After)",
}
READ_ERRORS = (401, 429, 503)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429, 503)


def ref(model: type[BaseModel]) -> dict[str, str]:
    """A $ref to ``model``'s component schema."""
    return {"$ref": REF.format(model=model.__name__)}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response object with a JSON body of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Any]:
    """Error responses (the shared Error body) for ``statuses``."""
    return {str(s): json_response(ref(schemas.Error), REASONS[s]) for s in statuses}


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def query_param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def document(modules: Iterable[ModuleType] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented module, /healthz and this document."""
    from web.api import RESOURCE_MODULES, extra_openapi_modules
    from web.monitoring import health

    chosen = list(modules) if modules is not None else [*RESOURCE_MODULES, *extra_openapi_modules(), health]
    models: list[type[BaseModel]] = [schemas.Error]
    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": json_response({"type": "object"}, "OpenAPI 3.1")},
            }
        }
    }
    for module in chosen:
        models.extend(module.routes.models())
        for path, ops in module.routes.paths().items():
            paths.setdefault(path, {}).update(ops)
    components: dict[str, Any] = {}
    named: dict[str, type[BaseModel]] = {}
    for model in dict.fromkeys(models):  # a model several routes name is one component
        if named.setdefault(model.__name__, model) is not model:
            raise ValueError(f"two OpenAPI models are named {model.__name__}: rename one")
        schema = model.model_json_schema(ref_template=REF)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "Taskyard API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document() -> Response:
    return jsonify(document())


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/openapi.json", "openapi_document", openapi_document, methods=["GET"])
