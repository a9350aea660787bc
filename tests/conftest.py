import sys
from pathlib import Path

# The NumPy baseline lives in benchmarks/ (it is also the benchmark's reference).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
