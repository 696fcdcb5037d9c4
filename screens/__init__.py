"""The Textual wizard (installed as ``hawizard.screens``). UI only: all logic lives in the engine."""
