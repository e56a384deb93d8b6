"""GET /api/v1/jobs on real Redis: filters, newest first, and cursors that survive concurrent writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings
from tests.conftest import ApiClient, run_worker
from web.read_model.job_search import JobFilter, search


def _walk(api: ApiClient, query: str, between: Any = None, cursor: str | None = None) -> list[str]:
    """Every id of a listing from ``cursor`` on, page by page; ``between(n)`` runs after page n."""
    ids: list[str] = []
    for n in range(1000):
        url = f"/api/v1/jobs?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if between is not None:
            between(n)
        if cursor is None:
            return ids
    raise AssertionError("the listing did not end")


def _echo(connection: Redis, settings: Settings, n: int, **kw: Any) -> list[str]:
    return [
        enqueue(connection, settings, JobRequest("tests.add", args=(i, 1), **kw)).job.id for i in range(n)
    ]


def test_lists_every_status_newest_first_with_filters(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    failed = [
        enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": f"m{i}"})).job.id
        for i in range(2)
    ]
    run_worker(connection)
    queued = _echo(connection, settings, 3)
    later = enqueue(connection, settings, JobRequest("tests.add", args=(1, 2), delay_seconds=600)).job.id
    everything = api.get("/api/v1/jobs").get_json()
    by_id = {item["id"]: item for item in everything["items"]}
    assert set(by_id) == {*failed, *queued, later}
    assert {by_id[i]["status"] for i in failed} == {"failed"} and by_id[later]["status"] == "scheduled"
    assert [i["id"] for i in api.get("/api/v1/jobs?status=queued").get_json()["items"]] == queued[::-1]
    assert {i["id"] for i in api.get("/api/v1/jobs?task=tests.fail").get_json()["items"]} == set(failed)
    prefix = queued[1][:12]
    assert [i["id"] for i in api.get(f"/api/v1/jobs?id_prefix={prefix}").get_json()["items"]] == [queued[1]]
    assert api.get("/api/v1/jobs?queue=high").get_json()["items"] == []
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+", "%2B")
    ended = api.get(f"/api/v1/jobs?ended_after={hour_ago}").get_json()["items"]
    assert {i["id"] for i in ended} == set(failed)
    assert api.get(f"/api/v1/jobs?enqueued_before={hour_ago}").get_json()["items"] == []


def test_bad_filters_are_400s_naming_the_field(api: ApiClient) -> None:
    for query, field in [
        ("status=lost", "status"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("ended_after=yesterday", "ended_after"),
        ("ended_after=2026-01-01T00:00:00", "ended_after"),  # no offset
        ("id_prefix=a%0Ab", "id_prefix"),
        ("colour=red", "colour"),
    ]:
        response = api.get(f"/api/v1/jobs?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["details"][0]["field"] == field
    assert api.get("/api/v1/jobs?queue=nowhere").get_json()["error"]["code"] == "unknown_queue"
    assert api.get("/api/v1/jobs?cursor=bm9wZQ").get_json()["error"]["code"] == "invalid_cursor"
    first = api.get("/api/v1/jobs?limit=1&status=queued")
    assert first.status_code == 200


def test_cursor_of_other_filters_is_refused(api: ApiClient, connection: Redis, settings: Settings) -> None:
    _echo(connection, settings, 3)
    cursor = api.get("/api/v1/jobs?limit=1").get_json()["next_cursor"]
    assert cursor
    refused = api.get(f"/api/v1/jobs?limit=1&status=queued&cursor={cursor}")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_cursor"


def test_queue_pages_stay_stable_while_jobs_are_enqueued_and_popped(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    original = _echo(connection, settings, 12)

    def meanwhile(n: int) -> None:
        _echo(connection, settings, 2)  # pushed behind the cursor: never on a later page
        if n == 1:
            connection.lpop("rq:queue:default")  # a worker takes the oldest job: the rest do not shift

    seen = _walk(api, "status=queued&limit=3", meanwhile)
    assert len(seen) == len(set(seen))
    assert seen == original[::-1][: len(seen)]
    assert set(original[1:]) <= set(seen)


def test_registry_pages_stay_stable_when_the_cursor_job_leaves(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    original = [
        enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": f"m{i}"})).job.id
        for i in range(9)
    ]
    run_worker(connection)  # nine failures, most within the same whole second (equal scores)
    first = api.get("/api/v1/jobs?status=failed&limit=4").get_json()
    shown = [item["id"] for item in first["items"]]
    api.post(f"/api/v1/jobs/{shown[-1]}/requeue")  # the cursor's own job leaves the failed registry
    new = enqueue(connection, settings, JobRequest("tests.fail", kwargs={"message": "new"})).job.id
    run_worker(connection)  # ...and it fails again, with a newer failure: not on the later pages
    rest = _walk(api, "status=failed&limit=4", cursor=first["next_cursor"])
    assert not set(rest) & set(shown) and len(rest) == len(set(rest))
    # RQ scores whole seconds: a failure in the cursor's own second may sort after it (documented)
    assert set(original) - set(shown) <= set(rest) <= set(original) - set(shown) | {new}


def test_a_selective_filter_answers_short_pages_with_a_cursor(connection: Redis, settings: Settings) -> None:
    """A filter that is not a source is checked on a bounded window of candidates per request."""
    import web.read_model.job_search as job_search

    ids = _echo(connection, settings, 30)
    target = ids[0]
    flt = JobFilter(queues=settings.worker.queues, id_prefix=target)
    original = job_search.SCAN_LIMIT
    job_search.SCAN_LIMIT = 10
    try:
        pages, cursor, found = 0, None, []
        while True:
            page = search(connection, flt, 25, cursor)
            assert page.examined <= 10
            found += [job.id for job, _ in page.jobs]
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
    finally:
        job_search.SCAN_LIMIT = original
    assert found == [target] and pages >= 3
