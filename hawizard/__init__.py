"""hawizard: design, render, plan and drive a two-node active/standby Pacemaker + DRBD cluster.

The package is the engine. It never imports Textual; the UI lives in ``hawizard.screens``
(the ``screens/`` folder of the source tree) and calls into this package.
"""

__version__ = "0.1.0"
