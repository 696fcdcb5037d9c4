"""The step plan: the procedure as typed data, pure, no I/O."""
