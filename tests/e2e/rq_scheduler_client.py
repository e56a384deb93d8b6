"""An rq-scheduler client script, written as a team that used ``rqscheduler`` would write it:
``python -m tests.e2e.rq_scheduler_client REDIS_URL`` schedules a one-shot job, an interval job with
``repeat`` and a cron job, and prints the times it asked for as JSON."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq_scheduler import Scheduler

from tests.fixtures import record_moment

ONE_SHOT_IN = 3.0  # seconds
INTERVAL = 1  # seconds between interval runs
INTERVAL_REPEAT = 6  # interval runs in all
CRON = "* * * * * * *"  # every second (crontab's 7-field form: seconds first, year last)
CRON_REPEAT = 8  # cron runs in all


def main(url: str) -> None:
    scheduler = Scheduler(connection=Redis.from_url(url))
    asked = time.time()
    one_shot = scheduler.enqueue_in(timedelta(seconds=ONE_SHOT_IN), record_moment, "moments:one-shot")
    first = datetime.utcnow()  # rq-scheduler reads naive datetimes as UTC
    interval = scheduler.schedule(
        first, record_moment, args=["moments:interval"], interval=INTERVAL, repeat=INTERVAL_REPEAT
    )
    cron = scheduler.cron(CRON, record_moment, args=["moments:cron"], repeat=CRON_REPEAT, id="client-cron")
    print(
        json.dumps(
            {
                "one_shot": {"id": one_shot.id, "due": asked + ONE_SHOT_IN},
                "interval": {"id": interval.id, "first": first.replace(tzinfo=UTC).timestamp()},
                "cron": {"id": cron.id},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
