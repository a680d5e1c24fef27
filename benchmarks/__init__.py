"""Benchmarks of `collector run` against a plain threaded boto3 script.

`python -m benchmarks [--size fleet|large|profiles100k] [--repeat N]` serves a simulated
organization on 127.0.0.1 and times, for each repetition, the baseline
(`benchmarks.baseline`), a first `collector run` and a rerun with nothing changed.
"""
