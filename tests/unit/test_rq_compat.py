"""The RQ internals the worker relies on (jobs/worker/rq_compat.py) still look as the worker expects.

A failure here names the method or attribute that changed: adapt the worker before raising RQ's pin."""

from __future__ import annotations

import fakeredis
import pytest
from rq import Queue
from rq.executions import Execution
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.worker import Worker
from rq.worker_pool import WorkerPool

from jobs.worker import rq_compat, rq_contract


@pytest.fixture
def instances() -> tuple[Worker, WorkerPool, Job, Queue]:
    connection = fakeredis.FakeRedis()
    queue = Queue("default", connection=connection)
    job = queue.enqueue("tests.fixtures.add", 1, 2)
    fetched = Job.fetch(job.id, connection=connection)
    return Worker([queue], connection=connection), WorkerPool([queue], connection=connection), fetched, queue


def test_the_installed_rq_matches_the_contract(instances: tuple[Worker, WorkerPool, Job, Queue]) -> None:
    problems = rq_contract.contract_problems(*instances)
    assert problems == [], "RQ internals the worker relies on changed:\n" + "\n".join(problems)


def test_a_changed_signature_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, instances: tuple[Worker, WorkerPool, Job, Queue]
) -> None:
    def handle_job_success(self: Worker, job: Job, queue: Queue) -> None: ...

    monkeypatch.setattr(Worker, "handle_job_success", handle_job_success)
    monkeypatch.delattr(Worker, "_handle_stopped_job")
    problems = rq_contract.contract_problems(*instances)
    assert any(p.startswith("Worker.handle_job_success takes") for p in problems)
    assert any(p.endswith("Worker._handle_stopped_job is gone") for p in problems)


def test_a_moved_scheduler_internal_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, instances: tuple[Worker, WorkerPool, Job, Queue]
) -> None:
    import rq.scripts

    monkeypatch.delattr(rq.scripts, "get_unique_enqueue_script")
    monkeypatch.delattr(Queue, "_prepare_for_queue")
    problems = rq_contract.contract_problems(*instances)
    assert "rq.scripts.get_unique_enqueue_script is gone" in problems
    assert any(p.endswith("Queue._prepare_for_queue is gone") for p in problems)


def test_a_missing_private_attribute_is_reported_by_name(
    instances: tuple[Worker, WorkerPool, Job, Queue],
) -> None:
    worker, pool, job, queue = instances
    del worker._ordered_queues
    del queue._is_async
    assert rq_contract.contract_problems(worker, pool, job, queue) == [
        "Worker has no attribute _ordered_queues",
        "Queue has no attribute _is_async",
    ]


def test_job_accessors_read_rq_fields(instances: tuple[Worker, WorkerPool, Job, Queue]) -> None:
    job = instances[2]
    assert rq_compat.callback_names(job) == [] and not rq_compat.has_callbacks(job)
    assert job.func_name == "tests.fixtures.add"
    stored = job.data
    rq_compat.resolve_function_as(job, "tests.fixtures.pid")
    assert job.func_name == "tests.fixtures.pid" and job.data == stored


def test_a_changed_key_name_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, instances: tuple[Worker, WorkerPool, Job, Queue]
) -> None:
    monkeypatch.setattr(
        IntermediateQueue, "get_intermediate_queue_key", classmethod(lambda cls, key: key + ":mid")
    )
    monkeypatch.setattr(Execution, "composite_key", property(lambda self: f"{self.id}/{self.job_id}"))
    problems = rq_contract.contract_problems(*instances)
    assert any(
        p.startswith("Queue.intermediate_queue_key is") and "INTERMEDIATE_SUFFIX" in p for p in problems
    )
    assert any(p.startswith("Execution.composite_key is") for p in problems)


def test_an_rq_name_our_worker_properties_would_shadow_is_reported(
    monkeypatch: pytest.MonkeyPatch, instances: tuple[Worker, WorkerPool, Job, Queue]
) -> None:
    monkeypatch.setattr(Worker, "stop_requested", False, raising=False)
    assert "Worker defines stop_requested itself: WorkerInternals.stop_requested would shadow it" in (
        rq_contract.contract_problems(*instances)
    )


def test_worker_internals_reach_rq_state(instances: tuple[Worker, WorkerPool, Job, Queue]) -> None:
    class Ours(rq_compat.WorkerInternals, Worker):
        pass

    worker = Ours([instances[3]], connection=instances[3].connection)
    worker.stop_requested = True
    worker.set_horse_pid(42)
    assert worker._stop_requested and worker.horse_pid == 42 and worker.ordered_queues == [instances[3]]
    execution = Execution("e1", "a:b", worker.connection)
    assert rq_compat.job_id_of_execution([b"x:e2", execution.composite_key.encode()], "e1") == "a:b"
