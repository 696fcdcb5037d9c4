"""``python -m hawizard`` is the same as the ``hawizard`` command."""

import sys

from .cli import main

sys.exit(main())
