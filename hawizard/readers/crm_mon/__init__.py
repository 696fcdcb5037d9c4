"""Cluster state from ``crm_mon``: nodes online, each resource's role and node, failures.

Why: after the resources are loaded the runner waits for "DRBD promoted on one node and the
group started on the same node"; ``hawizard status`` shows the same thing. Pacemaker reports it
in two formats, one module each, both parsed into one ``ClusterStatus``:

  model        ClusterStatus (and ResourceState, Failure): the questions the runner asks
  words        the vocabulary both formats are normalised to: roles, agents, ids, operation keys
  xml_format   ``crm_mon --output-as=xml`` (Pacemaker >= 2.0.3; also the legacy ``crm_mon -X``)
  text_format  ``crm_mon -1`` text, Pacemaker 1.0 to 2.1, indented or flattened
  parse        ``parse_crm_mon``: XML or text, whichever a sample is

Unknown lines are ignored; nothing here raises on input. Engine core: standard library only.
"""
