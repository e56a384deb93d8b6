"""`make bench`: run every benchmark on a private redis-server and print Markdown tables."""

from __future__ import annotations

import argparse

from bench import scheduler as scheduler_bench
from bench.common import private_redis
from bench.latency import worker_figures
from bench.throughput import enqueue_rates, processing_rates
from jobs.connection import connect_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per throughput run")
    args = parser.parse_args()
    with private_redis() as server:
        connection = connect_url(server.url)
        print(enqueue_rates(connection, server.url, args.jobs), flush=True)
        print(processing_rates(connection, server.url, args.jobs), flush=True)
        print(worker_figures(connection, server.url, args.jobs), flush=True)
        print(scheduler_bench.scale(connection, server.url), flush=True)
        print(scheduler_bench.one_shot_lateness(connection, server.url), flush=True)
        print(scheduler_bench.every_second_lateness(connection, server.url), flush=True)


if __name__ == "__main__":
    main()
