"""One declaration per route: its Flask URL rule and its OpenAPI operation both come from it.

A resource module makes ``routes = Routes("/api/v1")`` and decorates each view::

    @routes.get("/tasks", "The task registry", {200: (ListOf(TaskView), "Tasks")}, errors=READ_ERRORS)
    def list_tasks() -> Response: ...

``routes.register(bp)`` adds the URL rules to the blueprint; :func:`web.api.openapi.document` asks
``routes.paths()`` and ``routes.models()`` for the document. The path parameters come from the rule
(``<job_id>`` → ``{job_id}``, a plain string unless ``path_schemas`` says otherwise); the components
are the models the declarations name. So a route cannot exist undescribed, nor be described twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack

from flask import Blueprint
from pydantic import BaseModel

from web.api.openapi import errors, json_response, path_param, ref

F = TypeVar("F", bound=Callable[..., Any])
RULE_PARAM = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@dataclass(frozen=True)
class ListOf:
    """``{"items": [model, ...]}``, plus ``total``/``page``/``per_page`` when paginated."""

    model: type[BaseModel]
    paginated: bool = False


@dataclass(frozen=True)
class AnyOf:
    """A body that is one of ``models``."""

    models: tuple[type[BaseModel], ...]


Schema = type[BaseModel] | ListOf | AnyOf | dict[str, Any]
Reply = tuple[Schema, str]  # a response's body and description


def schema_of(schema: Schema) -> dict[str, Any]:
    """The JSON schema of a reply body (models as $refs to their components)."""
    if isinstance(schema, ListOf):
        items: dict[str, Any] = {"items": {"type": "array", "items": ref(schema.model)}}
        required = ["items"]
        if schema.paginated:
            items.update({name: {"type": "integer"} for name in ("total", "page", "per_page")})
            required = ["items", "total", "page", "per_page"]
        return {"type": "object", "required": required, "properties": items}
    if isinstance(schema, AnyOf):
        return {"anyOf": [ref(model) for model in schema.models]}
    if isinstance(schema, dict):
        return schema
    return ref(schema)


def models_of(schema: Schema) -> list[type[BaseModel]]:
    if isinstance(schema, ListOf):
        return [schema.model]
    if isinstance(schema, AnyOf):
        return list(schema.models)
    if isinstance(schema, dict):
        return []
    return [schema]


@dataclass(frozen=True)
class Endpoint:
    """A route: what Flask dispatches and what the OpenAPI document says about it."""

    method: str
    rule: str  # the Flask rule under the blueprint's prefix, e.g. "/jobs/<job_id>"
    view: Callable[..., Any]
    summary: str
    replies: Mapping[int, Reply]  # the answers that are not errors, by status
    errors: tuple[int, ...] = ()  # statuses answered with the shared Error body
    body: type[BaseModel] | None = None  # the JSON request body
    parameters: tuple[dict[str, Any], ...] = ()  # query and header parameters, after the path's
    path_schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    security: tuple[dict[str, list[str]], ...] = ({"bearer": []},)  # ({}, ...): a token is optional
    name: str = ""  # the Flask endpoint; the view's name when empty
    answers_options: bool = False  # the view answers OPTIONS itself (Flask's answer would be wrong)

    def operation(self) -> dict[str, Any]:
        """The OpenAPI operation: bearer token, the declared replies over the Error responses."""
        responses = errors(*self.errors)
        for status, (schema, description) in self.replies.items():
            responses[str(status)] = json_response(schema_of(schema), description)
        op: dict[str, Any] = {
            "summary": self.summary,
            "responses": responses,
            "security": list(self.security),
        }
        if self.description:
            op["description"] = self.description
        if self.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(self.body)}},
            }
        path = [
            {**path_param(name), "schema": self.path_schemas[name]}
            if name in self.path_schemas
            else path_param(name)
            for name in RULE_PARAM.findall(self.rule)
        ]
        if path or self.parameters:
            op["parameters"] = [*path, *self.parameters]
        return op

    def models(self) -> list[type[BaseModel]]:
        found = [self.body] if self.body is not None else []
        for schema, _ in self.replies.values():
            found.extend(models_of(schema))
        return found


class Options(TypedDict, total=False):
    """The :class:`Endpoint` fields a declaration may give besides method, rule, summary and replies."""

    errors: tuple[int, ...]
    body: type[BaseModel] | None
    parameters: tuple[dict[str, Any], ...]
    path_schemas: Mapping[str, dict[str, Any]]
    description: str
    security: tuple[dict[str, list[str]], ...]
    name: str
    answers_options: bool


class Routes:
    """The endpoints of one module (or blueprint), declared by decorating their views."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix  # the blueprint's url_prefix: where the document places the rules
        self.endpoints: list[Endpoint] = []

    def route(
        self, method: str, rule: str, summary: str, replies: Mapping[int, Reply], **spec: Unpack[Options]
    ) -> Callable[[F], F]:
        """Declare the decorated view as ``method rule`` (``spec``: :class:`Options`)."""

        def declare(view: F) -> F:
            self.endpoints.append(Endpoint(method, rule, view, summary, replies, **spec))
            return view

        return declare

    def get(
        self, rule: str, summary: str, replies: Mapping[int, Reply], **spec: Unpack[Options]
    ) -> Callable[[F], F]:
        return self.route("GET", rule, summary, replies, **spec)

    def post(
        self, rule: str, summary: str, replies: Mapping[int, Reply], **spec: Unpack[Options]
    ) -> Callable[[F], F]:
        return self.route("POST", rule, summary, replies, **spec)

    def put(
        self, rule: str, summary: str, replies: Mapping[int, Reply], **spec: Unpack[Options]
    ) -> Callable[[F], F]:
        return self.route("PUT", rule, summary, replies, **spec)

    def patch(
        self, rule: str, summary: str, replies: Mapping[int, Reply], **spec: Unpack[Options]
    ) -> Callable[[F], F]:
        return self.route("PATCH", rule, summary, replies, **spec)

    def delete(
        self, rule: str, summary: str, replies: Mapping[int, Reply], **spec: Unpack[Options]
    ) -> Callable[[F], F]:
        return self.route("DELETE", rule, summary, replies, **spec)

    def register(self, bp: Blueprint) -> None:
        """Add every declared rule to ``bp`` (whose prefix must be the one the document uses)."""
        if (bp.url_prefix or "") != self.prefix:
            raise ValueError(f"routes declared under {self.prefix} registered on {bp.url_prefix}")
        for ep in self.endpoints:
            methods = [ep.method, "OPTIONS"] if ep.answers_options else [ep.method]
            bp.add_url_rule(ep.rule, ep.name or ep.view.__name__, ep.view, methods=methods,
                            provide_automatic_options=False if ep.answers_options else None)  # fmt: skip

    def paths(self) -> dict[str, dict[str, Any]]:
        """The OpenAPI path items of these endpoints."""
        found: dict[str, dict[str, Any]] = {}
        for ep in self.endpoints:
            path = self.prefix + RULE_PARAM.sub(r"{\1}", ep.rule)
            found.setdefault(path, {})[ep.method.lower()] = ep.operation()
        return found

    def models(self) -> list[type[BaseModel]]:
        """The models the endpoints name: the document's components."""
        return [model for ep in self.endpoints for model in ep.models()]
