"""Filtered task listings read the tasks in chunks (one SORT ... GET per chunk): matches on either side
of a chunk boundary, combined filters, pages and totals all come out as with one big read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis import Redis

from jobs import keys
from scheduler import store as store_module
from scheduler.store import TaskStore
from scheduler.tasks import Definition


def test_filters_across_chunks(connection: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SCAN_CHUNK", 3)
    store = TaskStore(connection)
    now = datetime.now(UTC)
    created = []
    for i in range(11):
        handler = "system.echo" if i % 2 else "system.noop"
        task = store.create(Definition(f"Report-{i:02d}", handler, "0 3 * * *"), now)
        if i % 3 == 0:
            store.pause(task, now)
        created.append(task.id)
    connection.delete(keys.sched_task(created[5]))  # a hash gone, its listing entry left behind

    order = [i.decode() for i in connection.zrange(keys.SCHED_ALL, 0, -1)]  # the listing order
    name_of = {task_id: f"Report-{i:02d}" for i, task_id in enumerate(created)}

    def expected(names: set[int]) -> list[str]:
        return [name_of[t] for t in order if t in name_of and int(name_of[t][-2:]) in names]

    echo, total = store.page(1, 20, handler="system.echo")
    assert total == 4 and [t.definition.name for t in echo] == expected({1, 3, 7, 9})
    paused, total = store.page(2, 2, status="paused")
    assert total == 4 and [t.definition.name for t in paused] == expected({0, 3, 6, 9})[2:]
    both, total = store.page(1, 20, status="paused", handler="system.echo", name="PORT-0")
    assert total == 2 and [t.definition.name for t in both] == expected({3, 9})
    assert store.page(1, 20, name="report-1")[1] == 1  # Report-10 only
    assert store.page(1, 20, name="zzz") == ([], 0)
