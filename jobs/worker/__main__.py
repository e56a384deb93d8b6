"""`python -m jobs.worker`: the Procfile's worker process (see :mod:`jobs.worker.pool`)."""

from jobs.worker.pool import main

main()
