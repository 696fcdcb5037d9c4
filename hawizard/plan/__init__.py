"""The step plan: the procedure as typed data, pure, no I/O.

  types       Where, the kinds of action (Run, Fact, Write, Poll) that describe themselves and
              write their JSON, Marker, Step, Plan
  waits       what a poll waits for: readers of DRBD and crm_mon output and the conditions on
              what they read (connected, synced, nodes-online, service-up, group-on)
  crosscheck  the check of both nodes' preflight facts (disk sizes, clocks)
  commands    the DRBD and crm_mon commands of a stack's dialect
  context     PlanContext: the design, its stack looked up once, its files and commands
  steps/      one builder per step, grouped by phase, in the plan's order
  build       build_plan: the builders in order -> Plan
  prepare     prepare: design -> problems -> files -> plan, the stack looked up once
  describe    one line per action (kept for callers; each action describes itself)
"""
