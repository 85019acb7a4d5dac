"""``python -m hearth.cli``: the ``hearth`` command."""

import sys

from hearth.cli import main

sys.exit(main())
