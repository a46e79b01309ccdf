"""Demo data: the seeds' campaigns and generated seasons (demo and benchmarks)."""
