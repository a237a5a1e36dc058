import sys

from insole._cli import main

sys.exit(main())
