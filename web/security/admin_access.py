"""``ADMIN_PATHS_ADMIN_ONLY``: the design notes' rule that everything under ``/admin/`` is for admins.

The scheduled-tasks design note says "All task management endpoints require admin privileges", and
the background-jobs note mounts the queue dashboard at ``/admin/queues`` behind a superadmin check.
Taskyard keeps read-only viewers by default (a viewer token reads ``/admin/scheduler`` and browses
rq-dashboard without its actions): they are useful for on-call and support. With
``ADMIN_PATHS_ADMIN_ONLY=true`` a viewer sees nothing under ``/admin/``: every request there, reads
included, needs the admin role (403 otherwise). ``/api/v1`` and our own pages under ``/dashboard``
keep their viewer access.

:func:`admins_only` runs as a ``before_request`` of each ``/admin/`` blueprint *after* the blueprint's
own authentication, so an anonymous caller still gets that guard's 401 or login redirect.
"""

from __future__ import annotations

from flask import g

from web.errors import ApiError
from web.extension import state


def admins_only() -> None:
    """403 for a non-admin caller under ``/admin/`` when ADMIN_PATHS_ADMIN_ONLY is on."""
    if not state().settings.access.admin_paths_admin_only:
        return
    principal = g.get("principal")
    if principal is not None and not principal.is_admin:
        raise ApiError(
            403, "forbidden", "everything under /admin/ needs an admin (ADMIN_PATHS_ADMIN_ONLY is on)"
        )
