"""Entry point: `.venv/bin/python bench/run` (or `python -m bench.run`)."""

import sys
from pathlib import Path

if not __package__:  # run as a folder: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.run import main

sys.exit(main())
