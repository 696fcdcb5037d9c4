"""Shipped TOML presets (installed as ``hawizard.builtin_presets``); see docs/presets.md."""
