"""Write ``tests/data/core_identity.npz``: every table of ``analyze()`` on the real files its test names.

    python docs/scripts/core_identity_reference.py

The test compares the analysis of the day with these arrays, bit for bit, so
that speed work on the core cannot move a number unseen. Re-run this script
only for a deliberate change of the analysis' numbers (and say so in the
commit). To record the numbers of another version of the package, put that
version first on the path: ``PYTHONPATH=/path/to/its/checkout python ...``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.append(str(REPO / "tests"))  # last: the package recorded is the first on the path (PYTHONPATH, then this one)

from test_core_identity import REFERENCE, write_reference  # noqa: E402

import insole  # noqa: E402

if __name__ == "__main__":
    print(f"recording the numbers of {Path(insole.__file__).parent}")
    print(f"wrote {write_reference(REFERENCE)}")
