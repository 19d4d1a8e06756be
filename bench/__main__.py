"""Run every benchmark module (bench/*_bench.py), each in its own process."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = 0
for module in sorted(here.glob("*_bench.py")):
    print(f"== {module.stem}", flush=True)
    failed += subprocess.call([sys.executable, "-m", f"bench.{module.stem}"], cwd=here.parent) != 0
sys.exit(1 if failed else 0)
