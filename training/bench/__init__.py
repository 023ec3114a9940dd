"""Benchmarks that print their figures: `python -m cbm_training.bench NAME [options]`.

Speed and memory targets are measured here, on the machine at hand, never in timed unit tests.
Each benchmark is a module of this package with a `main(argv) -> int`.
"""
