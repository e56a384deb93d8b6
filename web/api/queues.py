"""/api/v1/queues: jobs per state in every configured queue (and any other queue holding jobs)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from web.api.openapi import READ_ERRORS, errors, json_response, list_of, operation
from web.api.schemas import QueueView
from web.extension import state
from web.read_model.queries import queue_listing


def list_queues() -> Response:
    ext = state()
    return jsonify({"items": queue_listing(ext.connection, ext.settings)})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/queues", "list_queues", list_queues, methods=["GET"])


OPENAPI_MODELS = (QueueView,)


def openapi_paths() -> dict[str, Any]:
    return {
        "/api/v1/queues": {
            "get": operation(
                "Jobs per state in each queue",
                {"200": json_response(list_of(QueueView), "Queues"), **errors(*READ_ERRORS)},
            )
        }
    }
