"""The presets that ship with hawizard (TOML data): the article's cluster, Debian 12 with crmsh or pcs,
and RHEL-family 9. Read by hawizard/design/preset_file.py; every key is in docs/presets.md.
"""
