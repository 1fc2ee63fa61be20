"""Load benchmark, data-scaling check, profiler driver and their shared harness."""
