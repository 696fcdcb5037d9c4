"""Rendering: a design into the exact files each node gets (jinja2 templates per stack)."""
