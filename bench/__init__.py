"""Benchmarks: request counts and CPU per update against the simulators, printed as ratios."""
