"""Test and benchmark fixtures: synthetic service series and the catalogue of situations.

Never imported by the product. Benchmarks put the repository root on ``sys.path`` and import
``tests.support`` as the tests do.
"""
