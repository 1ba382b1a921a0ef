"""Speed and efficiency benchmarks, reported as ratios against a baseline measured in the
same run (never as timed tests). `python -m benchmarks [--steps N]` prints JSON and writes
benchmarks/results.json."""
