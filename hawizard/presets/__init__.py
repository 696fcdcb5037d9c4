"""Shipped TOML presets (installed as ``hawizard.presets``); see docs/presets.md."""
