"""``python -m benchmarks.simulator``: see ``benchmarks.simulator.cli``."""

from benchmarks.simulator.cli import main

raise SystemExit(main())
