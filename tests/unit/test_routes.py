"""One declaration per route: the Flask rule and the OpenAPI operation come from the same place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Blueprint, Flask, Response, jsonify
from pydantic import BaseModel

from web.api.routes import ListOf, Routes
from web.api.schemas import View
from web.api.times import ApiTime


class Thing(BaseModel):
    id: str


def _routes() -> Routes:
    routes = Routes("/things")

    @routes.get("/<thing_id>", "One thing", {200: (Thing, "The thing")}, errors=(404,), name="get_thing")
    def one(thing_id: str) -> Response:
        return jsonify({"id": thing_id})

    @routes.get("", "Things", {200: (ListOf(Thing, paginated=True), "Things")})
    def many() -> Response:
        return jsonify({"items": [], "total": 0, "page": 1, "per_page": 20})

    return routes


def test_the_rule_and_the_operation_come_from_one_declaration() -> None:
    routes = _routes()
    app = Flask(__name__)
    bp = Blueprint("things", __name__, url_prefix="/things")
    routes.register(bp)
    app.register_blueprint(bp)
    assert app.test_client().get("/things/t1").get_json() == {"id": "t1"}

    paths = routes.paths()
    assert set(paths) == {"/things/{thing_id}", "/things"}
    op = paths["/things/{thing_id}"]["get"]
    assert op["parameters"] == [
        {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert set(op["responses"]) == {"200", "404"}
    assert "parameters" not in paths["/things"]["get"]
    assert paths["/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "required"
    ] == [
        "items",
        "total",
        "page",
        "per_page",
    ]
    assert routes.models() == [Thing, Thing]


def test_routes_refuse_a_blueprint_with_another_prefix() -> None:
    with pytest.raises(ValueError, match="/things"):
        _routes().register(Blueprint("elsewhere", __name__, url_prefix="/other"))


class Record:
    """A store record: more attributes than its view shows, times in epoch seconds."""

    def __init__(self) -> None:
        self.id = "r1"
        self.secret = "never shown"
        self.at = 0.5


class RecordView(View):
    id: str
    at: ApiTime


def test_a_view_reads_only_its_fields_off_the_record_and_answers_iso_times() -> None:
    assert RecordView.of(Record()) == {"id": "r1", "at": datetime.fromtimestamp(0.5, UTC).isoformat()}
