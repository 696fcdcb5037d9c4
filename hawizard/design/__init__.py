"""The design: every decision of a cluster, read from a preset, checked, and explained.

Modules, one job each:
  model        the dataclasses of a design; each field carries its doc, form, range and choices
  stacks       what differs between the target stacks (packages, paths, dialects, services)
  preset_file  reading a preset (with its source, for file:line), checking its fields, writing it
  fieldcheck   the form of single values (addresses, names, paths, rates, secret references)
  validate     contradictions between fields: errors that stop a build
  lint         risks of a design, each explained: warnings and notes
  links        which interconnect DRBD replicates over and which one Corosync prefers
  timing       the worst-case switch-over times the design allows
  problems     the one Problem type of validate, lint and the preset reader
  stackswitch  moving a design to another stack: the values that were the old stack's own
  reference    docs/presets.md, generated from the model
"""
