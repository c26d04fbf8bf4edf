"""Many cases: config files, the runner (shards, jobs), the results file."""
