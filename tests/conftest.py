import sys
from pathlib import Path

# The transform table's rows are a package of this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_collection_modifyitems(session, config, items):
    """Run the fitting tests last: they compile the largest programs of the suite (Jacobians of
    cable runs and of the wave speed), and two full runs of the suite on 2026-11-29 died inside
    XLA compilation (SIGSEGV, SIGABRT in ``backend_compile_and_load``) in later modules' gradient
    rows after them — never in a run of those modules alone.  Cause not found; see the stop note."""
    items.sort(key=lambda item: "test_fitting.py" in str(item.fspath))
