"""How long `import uno` takes in a fresh interpreter, against a bare interpreter start (the baseline).

Run: `python -m benchmarks.import_time [--runs 7]`. Writes benchmarks/results/import_time.json and prints it.
Heavy packages (torch, sentence-transformers, FAISS, scikit-learn, litellm) must not be imported by `import uno`;
the figure shows what the light import costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "import_time.json"
HEAVY = ("torch", "sentence_transformers", "faiss", "sklearn", "litellm", "transformers")


def _wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, object]:
    _wall("import uno")  # warm the file-system cache once
    bare = [_wall("pass") for _ in range(runs)]
    with_uno = [_wall("import uno") for _ in range(runs)]
    probe = f"import sys, uno; print([m for m in {HEAVY!r} if m in sys.modules])"
    heavy = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.strip()
    bare_ms, uno_ms = statistics.median(bare) * 1000, statistics.median(with_uno) * 1000
    return {
        "runs": runs,
        "bare_interpreter_ms_median": round(bare_ms, 1),
        "import_uno_ms_median": round(uno_ms, 1),
        "import_uno_minus_bare_ms": round(uno_ms - bare_ms, 1),
        "ratio_to_bare": round(uno_ms / bare_ms, 2),
        "heavy_modules_imported": heavy,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    figures = measure(args.runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
