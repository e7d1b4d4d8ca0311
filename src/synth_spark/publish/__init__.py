"""Publishing a dataset safely: what is ours, one writer, a journaled swap (no Spark needed)."""
