"""`uno build` on a real pseudo-terminal: each stage draws its bar (and the reaction model's retraining its own),
the libraries draw none (the packaged MiniLM is loaded for real), and nothing is drawn with --quiet or when
standard error is a pipe.

The build runs on simulator logs; ``UNO_TEST_TTY_LOGS`` sets how many (default 400: the real model embeds every
one, which takes minutes at 5,000 on a shared CI core). No timing is asserted.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from benchmarks.simulator import SimulatorConfig
from benchmarks.simulator.generate import write_logs
from tests.integrations.serving import REPO
from uno.progress import BUILD_STAGES, REWARD_STAGE

UNO = Path(sys.executable).with_name("uno")
LOGS = int(os.environ.get("UNO_TEST_TTY_LOGS", "400"))
# A tqdm bar: "<desc>: 40%|████      | 2/5 [00:01<00:02, 1.5it/s]", or without a total "<desc>: 3it [00:01, ...]".
BAR = re.compile(r"\d+%\||\|\s*\d+/\d+\s*\[|\d+[a-z]* \[\d+:\d\d")

pytestmark = pytest.mark.slow


def _environment() -> dict[str, str]:
    """The test's environment without any switch that hides library bars: uno must switch them off itself."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(REPO))
    return env


def run_on_terminal(args: list[str], stdout: Path, *, rows: int = 40, columns: int = 120) -> str:
    """Run ``uno ARGS`` with standard error on a new pseudo-terminal of that size; what it drew there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    with stdout.open("wb") as out:
        process = subprocess.Popen(
            [str(UNO), *args], stdin=subprocess.DEVNULL, stdout=out, stderr=follower, env=_environment()
        )
    os.close(follower)
    drawn = bytearray()
    try:
        while chunk := _read(leader):
            drawn += chunk
    finally:
        os.close(leader)
        assert process.wait(timeout=60) == 0, drawn.decode(errors="replace")[-3000:]
    return drawn.decode(errors="replace")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""


def bars(drawn: str) -> list[str]:
    """Every bar state drawn (a carriage return starts a redraw), without trailing blanks."""
    return [line.strip() for line in re.split(r"[\r\n]+", drawn) if BAR.search(line)]


def finished(drawn: str) -> list[str]:
    return [name for name in BUILD_STAGES if any(b.startswith(name) and "100%" in b for b in bars(drawn))]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tty")
    logs = write_logs(root / "logs", LOGS, SimulatorConfig(seed=7))["plain"]
    ingest = subprocess.run(
        [str(UNO), "--store", str(root / "store"), "ingest", str(logs)],
        capture_output=True,
        text=True,
        env=_environment(),
        stdin=subprocess.DEVNULL,
    )
    assert ingest.returncode == 0, ingest.stderr
    return root / "store"


def test_uno_build_on_a_terminal_draws_each_stage_and_no_library_bar(store: Path, tmp_path: Path) -> None:
    drawn = run_on_terminal(["--store", str(store), "build", "--json"], tmp_path / "report.json")

    assert finished(drawn) == list(BUILD_STAGES)
    assert f"{LOGS}/{LOGS}" in next(b for b in bars(drawn) if b.startswith("distil") and "100%" in b)
    strays = [b for b in bars(drawn) if not b.startswith((*BUILD_STAGES, REWARD_STAGE))]
    assert strays == [], "a library drew its own bar (model loading, batches)"
    # The simulator's ratings and reactions make the reaction model due: its bar counts requests and answers.
    reward = [b for b in bars(drawn) if b.startswith(REWARD_STAGE)]
    assert reward and "100%" in reward[-1]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["distilled_logs"] == LOGS and report["rules_by_status"].get("active", 0) > 0


def test_uno_build_quiet_or_piped_draws_nothing(store: Path, tmp_path: Path) -> None:
    # --full re-runs every stage (the embeddings come from the store's cache).
    drawn = run_on_terminal(["--store", str(store), "build", "--full", "--json", "--quiet"], tmp_path / "quiet.json")
    assert bars(drawn) == [] and "%|" not in drawn
    assert json.loads((tmp_path / "quiet.json").read_text(encoding="utf-8"))["distilled_logs"] == LOGS

    piped = subprocess.run(
        [str(UNO), "--store", str(store), "build", "--full", "--json"],
        capture_output=True,
        text=True,
        env=_environment(),
        stdin=subprocess.DEVNULL,
    )
    assert piped.returncode == 0, piped.stderr
    assert bars(piped.stderr) == [] and "%|" not in piped.stderr
    assert json.loads(piped.stdout)["distilled_logs"] == LOGS


def test_a_terminal_that_reports_no_size_still_shows_the_bars(tmp_path: Path) -> None:
    """A pseudo-terminal opened without a size (CI, ``script``, containers) reads as 0 x 0: tqdm alone drew
    nothing there."""
    code = "from uno.progress import stage\nwith stage('embed', 7, enabled=True) as advance:\n    advance(7)\n"
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    process = subprocess.Popen([sys.executable, "-c", code], stderr=follower, env=_environment())
    os.close(follower)
    drawn = bytearray()
    while chunk := _read(leader):
        drawn += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    assert finished(drawn.decode()) == ["embed"]
