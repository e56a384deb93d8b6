"""What the /admin/scheduler routes share in the OpenAPI document: paging and status parameters,
the read errors (each route is declared on its view in :mod:`web.admin.scheduler`)."""

from __future__ import annotations

from web.api.openapi import READ_ERRORS, query_param

PAGING = (
    query_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "1-based page"),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "items per page"),
)
TASK_STATUS = {
    "type": "string",
    "enum": ["active", "paused", "running", "completed", "failed", "retry-scheduled", ""],
    "description": "empty: any status",
}
EXECUTION_STATUS = {
    "type": "string",
    "enum": ["running", "completed", "failed", "retry-scheduled", "skipped", "abandoned", ""],
    "description": "empty: any status",
}

# GETs here also answer 403 to viewers when ADMIN_PATHS_ADMIN_ONLY is on (web/security/admin_access.py)
ADMIN_READ_ERRORS = (*READ_ERRORS, 403)
