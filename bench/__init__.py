"""Benchmarks (`make bench`): our figures beside plain RQ's, measured in the same run on one Redis."""
