"""One machine's platform: the `make run` launcher and the embedded Redis-compatible server it (and the suite) starts."""
