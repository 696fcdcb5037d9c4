"""The Textual wizard: the design questions, the review, the run and its summary. UI only: the
engine decides; the wizard asks and shows. The only package that imports Textual.

  launch      whether the wizard can run here (a terminal), then the App
  app         the App: the design being edited, the screens, the live run
  start       the start screen: shipped presets, a saved file, an unfinished run
  design      the design questions, section by section, with help and problems at each field
  questions   the sections and their entries, from the model
  forms       one field row: label, control, message
  fieldpaths  a design's value by key path, and typed text to a value with the engine's checks
  review      problems, files, plan (and the dry run)
  run         the run screen: steps, progress, output per node, controls
  runctl      the run as the wizard drives it (the run facade in a worker) and its state
  runsink     the event sink the UI thread drains
  outcome     what the finish screen shows
  finish      the finish screen
  dialogs     questions: typed confirmations, yes/no (the safe answer first), prompts
  keyorder    keys handled one at a time, in order, however fast they arrive
  wrapmark    folding long lines with a continuation mark
"""
