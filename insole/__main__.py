"""``python -m insole``: the command line, as the installed ``insole`` command."""

import sys

from insole._cli import main

sys.exit(main())
