"""The benchmark suite: `bench/run.sh` (or `python -m bench.run`) runs every scenario and writes bench/RESULTS.md."""
