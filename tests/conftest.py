import sys
from pathlib import Path

import jax
import pytest

# The transform table's rows are a package of this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _mapping_limit() -> int:
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return 0


def _mappings() -> int:
    try:
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps)
    except OSError:
        return 0


_LIMIT = _mapping_limit()

#: Work that dominates the suite's wall time, scheduled first so that no worker is left with it
#: at the end (measured with --durations).
_LONGEST_FIRST = ("test_transforms.py::test_grad", "test_fitting.py", "test_cable.py", "test_transforms.py",
                  "test_population.py", "test_cli.py")


def _group(item) -> str:
    """The test file, and for the transform table each transform's column of it: a worker runs a
    group whole (``--dist loadgroup``), so programs compiled for one test serve its neighbours."""
    name = Path(str(item.fspath)).name
    if name == "test_transforms.py":
        return f"{name}::{getattr(item, 'originalname', '')}"
    return name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    def rank(item):
        group = _group(item)
        return next((i for i, prefix in enumerate(_LONGEST_FIRST) if group.startswith(prefix)), len(_LONGEST_FIRST))

    items.sort(key=rank)
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Free the compiled programs of each test module when it is done.

    On the CPU every compiled XLA program keeps ~3 memory mappings of its machine code, and the
    suite compiles tens of thousands of programs: in one process that holds them all, the count
    reached Linux's per-process limit (``vm.max_map_count``, 65 530) late in the transform
    table, XLA's compilation then failed to map code, and the process died while unwinding that
    error (SIGSEGV in ``_Unwind_Find_FDE`` under ``backend_compile_and_load``; reproduced by
    lowering the limit).  ``jax.clear_caches`` unmaps them.
    """
    yield
    jax.clear_caches()


@pytest.fixture(autouse=True)
def _stay_under_the_mapping_limit():
    """Within a long module (the transform table), free compiled programs before the count of
    memory mappings reaches half of the kernel's limit."""
    yield
    if _LIMIT and _mappings() > _LIMIT // 2:
        jax.clear_caches()
