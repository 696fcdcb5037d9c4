"""Rendering: a design into the exact files each node gets.

  renderer   the files of a design (path, content, mode, owner, nodes), from the jinja2 templates of
             its stack; secrets are slots the runner fills at apply time, never text in a rendering
  templates  one folder per stack (a stack may borrow another's), and _shared/ and common/
"""
