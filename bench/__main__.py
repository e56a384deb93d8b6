"""`make bench`: run every benchmark on a private redis-server and print Markdown tables.

``python -m bench --scale`` runs only the scale benchmark at full size (1,000,000 queued jobs and
100,000 scheduled tasks, about five minutes); ``make bench`` runs it at a tenth of that."""

from __future__ import annotations

import argparse

from bench import scale as scale_bench
from bench import scheduler as scheduler_bench
from bench.batch import batch_rates
from bench.common import private_redis
from bench.delayed import delayed_lateness
from bench.latency import worker_figures
from bench.load import api_load
from bench.throughput import enqueue_rates, processing_rates
from jobs.connection import connect_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per throughput run")
    parser.add_argument(
        "--clients", type=int, default=16, help="most concurrent clients of the API load test"
    )
    parser.add_argument("--scale", action="store_true", help="only the scale benchmark, at full size")
    args = parser.parse_args()
    if args.scale:
        scale_bench.main(jobs=1_000_000, tasks=100_000)
        return
    with private_redis() as server:
        connection = connect_url(server.url)
        print(enqueue_rates(connection, server.url, args.jobs), flush=True)
        print(batch_rates(connection, server.url), flush=True)
        print(processing_rates(connection, server.url, args.jobs), flush=True)
        print(worker_figures(connection, server.url, args.jobs), flush=True)
        print(api_load(connection, server.url, clients=(args.clients // 2, args.clients)), flush=True)
        print(scale_bench.scale(connection, server.url, jobs=100_000, tasks=10_000), flush=True)
        print(scheduler_bench.scale(connection, server.url), flush=True)
        print(scheduler_bench.one_shot_lateness(connection, server.url), flush=True)
        print(scheduler_bench.every_second_lateness(connection, server.url), flush=True)
        print(delayed_lateness(connection, server.url), flush=True)


if __name__ == "__main__":
    main()
