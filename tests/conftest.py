import sys
from pathlib import Path

# The transform table's rows are a package of this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))
