"""The design: the model, the stacks, presets, field checks, validation, lint, timing."""
