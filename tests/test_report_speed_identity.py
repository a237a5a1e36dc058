"""The report's speed work changes nothing a reader sees (issue 19).

* spm1d is imported without matplotlib and scipy.ndimage (its plotting and smoothing functions import them
  when called), and its inference gives the same numbers as a plain ``import spm1d`` in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("spm1d")

# Two groups of curves that differ in mid-stance: one cluster, with a threshold and p-value to compare.
_INFERENCE = """
import json, sys
import numpy as np
{how}
rng = np.random.default_rng(7)
a = rng.normal(size=(20, 101)).cumsum(1)
b = a + 0.3 * rng.normal(size=(20, 101)).cumsum(1) + np.concatenate([np.zeros(40), 40 * np.hanning(30), np.zeros(31)])
ti = spm1d.stats.ttest2(a, b).inference(alpha=0.05, two_tailed=True, interp=True)
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib" or m.startswith("scipy.ndimage"))
print(json.dumps({{"zstar": float(ti.zstar), "clusters": [[float(e) for e in c.endpoints] + [float(c.P)]
                                                          for c in ti.clusters], "loaded": loaded}}))
"""


def _run(how: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _INFERENCE.format(how=how)], capture_output=True, text=True,
                          check=True, timeout=120)
    return json.loads(done.stdout)


def test_spm1d_is_imported_without_matplotlib_and_infers_the_same_numbers() -> None:
    plain = _run("import spm1d")
    deferred = _run("from insole.report._spm import _import_spm1d\nspm1d = _import_spm1d()")
    assert "matplotlib.pyplot" in plain["loaded"]  # what the deferral saves (spm1d's package imports it)
    assert deferred["loaded"] == []
    assert len(plain["clusters"]) == 1
    # the same inference code on the same data: bit-identical results
    assert deferred["zstar"] == plain["zstar"]
    assert deferred["clusters"] == plain["clusters"]


def test_spm1d_functions_that_need_the_deferred_modules_still_work() -> None:
    code = """
import sys
import numpy as np
from insole.report._spm import _import_spm1d
spm1d = _import_spm1d()
smoothed = spm1d.util.smooth(np.arange(10.0), fwhm=2)   # scipy.ndimage, imported now
import matplotlib
matplotlib.use("Agg")
ti = spm1d.stats.ttest2(np.random.default_rng(1).normal(size=(8, 51)),
                        np.random.default_rng(2).normal(size=(8, 51))).inference(0.05)
ti.plot()                                               # matplotlib.pyplot, imported now
from matplotlib import pyplot
print(type(sys.modules["scipy.ndimage"]).__name__, type(pyplot.gca()).__name__, round(float(smoothed[0]), 6))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    module, axes, first = done.stdout.split()
    assert module == "module"  # the real scipy.ndimage, not the stand-in
    assert axes == "Axes"
    assert first == "2.651376"
