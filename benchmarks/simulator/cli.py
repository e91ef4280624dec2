"""Command line: ``python -m benchmarks.simulator --n 1000 --seed 7 --out DIR`` and ``... sample``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.simulator.generate import (
    MAX_LOGS,
    MIN_LOGS,
    NoiseKind,
    NoiseRates,
    SimulatorConfig,
    write_logs,
)
from benchmarks.simulator.sample import DEFAULT_DATA_DIR, write_sample


def _noise_override(text: str) -> tuple[str, float]:
    kind, sep, rate = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--noise expects KIND=RATE, got {text!r}")
    try:
        return kind.strip(), float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--noise {text!r}: {rate!r} is not a number") from None


def _log_count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--n expects a whole number, got {text!r}") from None
    if not MIN_LOGS <= value <= MAX_LOGS:
        raise argparse.ArgumentTypeError(f"--n must be between {MIN_LOGS:,} and {MAX_LOGS:,}, got {value:,}")
    return value


def _generate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.simulator",
        description="Generate simulated user logs with hidden preferences and controlled noise. "
        "Run 'python -m benchmarks.simulator sample' to regenerate the demo's sample logs.",
    )
    parser.add_argument("--n", type=_log_count, required=True, help=f"logs to write ({MIN_LOGS:,}-{MAX_LOGS:,})")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--format", choices=("plain", "memorybench", "both"), default="plain")
    parser.add_argument("--users", type=int, default=50, help="number of simulated users (default 50)")
    parser.add_argument(
        "--noise",
        type=_noise_override,
        action="append",
        default=[],
        metavar="KIND=RATE",
        help=f"override a noise rate; kinds: {', '.join(kind.value for kind in NoiseKind)}",
    )
    parser.add_argument("--held-out", type=int, default=0, help="also write N held-out queries")
    return parser


def _sample_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.simulator sample",
        description="Regenerate uno/data/sample_logs.jsonl and sample_manifest.json exactly.",
    )
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_DATA_DIR)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sample"]:
        sample_args = _sample_parser().parse_args(args_list[1:])
        for path in write_sample(sample_args.out_dir):
            print(f"wrote {path}")
        return 0

    parser = _generate_parser()
    args = parser.parse_args(args_list)
    try:
        noise = NoiseRates().with_overrides(dict(args.noise))
        config = SimulatorConfig(seed=args.seed, users=args.users, noise=noise)
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    paths = write_logs(args.out, args.n, config, output_format=args.format, held_out=args.held_out)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.n:,} logs in {elapsed:.1f}s:", file=sys.stderr)
    for path in paths.values():
        print(f"  {path}", file=sys.stderr)
    return 0
