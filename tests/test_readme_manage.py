"""The README's "Managing memory by hand" section runs as written: its Python block, then its shell block (each
``uno`` line through click's runner), in a fresh directory."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from uno.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "### Managing memory by hand"


def section_blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n#", start + len(SECTION))
    return re.findall(rf"```{language}\n(.*?)```", text[start:end], re.S)


def test_the_section_has_one_python_and_one_shell_block() -> None:
    assert len(section_blocks("python")) == 1 and len(section_blocks("bash")) == 1


def test_the_readme_section_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNO_STORE", raising=False)
    (python,) = section_blocks("python")
    exec(compile(python, f"{README}:{SECTION}", "exec"), {"__name__": "readme"})
    assert (tmp_path / "memory.jsonl").stat().st_size > 0 and (tmp_path / "uno-backup.sqlite").is_file()

    (shell,) = section_blocks("bash")
    for line in shell.strip().splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == "uno", line
        result = CliRunner().invoke(main, words[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{line}\n{result.output}"
    assert (tmp_path / "copy" / "uno.sqlite").is_file()
