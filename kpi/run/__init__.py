"""Jobs, manifest, lock, workers, cluster, the batch."""
