"""MoonVPN benchmarks: `python -m bench` runs every `*_bench.py` module and prints figures."""
