"""The Textual wizard (installed as ``hawizard.ui``). UI only: all logic lives in the engine."""
