"""jaxneuro.plotting leaves matplotlib's backend as the user set it."""

import subprocess
import sys


def test_importing_plotting_keeps_the_backend():
    code = ("import matplotlib; matplotlib.use('svg'); import jaxneuro.plotting; "
            "print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().lower() == "svg"
