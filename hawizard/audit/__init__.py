"""The audit trail: per-run logs, their hash chain, listing, and reports."""
