"""Entry point: `.venv/bin/python bench/roundtrips` (or `python -m bench.roundtrips`)."""

import sys
from pathlib import Path

if not __package__:  # run as a folder: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.roundtrips import main

sys.exit(main())
