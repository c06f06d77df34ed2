"""``python -m conu``: the ``conu`` command."""

import sys

from conu.cli import main

sys.exit(main())
