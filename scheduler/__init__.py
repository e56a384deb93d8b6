"""The time-based layer: schedules, cron maths, the leader lease and the scheduler process.
Knows jobs/, never Flask."""
