"""Benchmarks: scripts that print figures (docs/benchmarks.md).

`python bench/<name>.py` puts this directory first on sys.path, so a script named after a
module that anything imports would hide it: hence `statistics_bench.py`, since a
`statistics.py` here replaced the standard library's `statistics` in every script.
"""
