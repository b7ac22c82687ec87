"""Benchmarks: ratios against OpenCV, scipy and scikit-image measured in the same run.

``make bench`` runs :mod:`benchmarks.run`, which calls each ``bench_*.py`` module and writes
its section of BENCHMARKS.md through :func:`benchmarks._report.write_section`.
"""
