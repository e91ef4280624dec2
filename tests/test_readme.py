"""Every code block of README.md runs as written, or is checked, with the reason, where it cannot run.

Grouping: blocks are taken in README order and grouped by ``##`` section, and each group runs in a fresh temporary
directory (``UNO_STORE`` unset) with one Python namespace, as a reader following that section would: a block may use
what an earlier block of its section defined ("Use it" builds a memory that its later subsections reuse).
``### Managing memory by hand`` starts a group of its own because its example is written for a fresh store.

- ``python`` blocks are exec'd. The ``openai/gpt-4o-mini`` model they name is answered by tests/llm's scripted
  server (``OPENAI_BASE_URL``), the one fake allowed: a remote LLM. The LoRA block is compiled and its imports run.
- ``bash`` and ``sh`` blocks, line by line: ``uno ...`` through click's runner against ``uno.cli.main`` (``[...]``
  marks an optional part: dropped), exit code 0; ``python -c ...`` in a subprocess; ``make X``: the Makefile has
  target X. Commands not run are in ``NOT_RUN`` with the reason, and so are lines naming a ``postgresql://`` store
  (a deployment's database); their arguments are still parsed by the real command.
  Any other command, or a block of another language, fails the test until it is given a rule here.
- ``json`` blocks parse (a log record with ``uno.ingest.parse_record``), and every ``pip install 'NAME[extras]'`` of
  the README names pyproject's distribution and its extras.
- ``uno serve`` is not started (it binds port 8080 until stopped); instead every REST route the README names, with
  its method where given, must be in the OpenAPI document of the app it would serve (``create_app(...).openapi()``).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rule_store import is_store_url
from tests.llm.scripts import reader
from tests.llm.server import ScriptedServer
from uno.cli import main
from uno.inject import Augmentation
from uno.memory import UnoMemory

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
OWN_GROUP = {"### Managing memory by hand"}

# command-line prefix -> why it is not run here (its arguments are still parsed by the real click command)
NOT_RUN = {
    "uno train": "trains LoRA adapters on a base model with a remote judge (minutes, a model download)",
    "uno mcp": "serves MCP over stdio until stopped (tests/integrations/ drive it with the SDK's client)",
    "uno serve": "serves on port 8080 until stopped; the README's routes are checked against its OpenAPI below",
    "uno demo": "the same run as `make demo`: ingest and build of the 200 sample logs, which 'Use it' already runs",
}
# A line naming a PostgreSQL store URL is a deployment's command (its database is not here).
STORE_URL_NOT_RUN = (
    "names a deployment's PostgreSQL server; tests/integrations/test_replicas.py runs uno serve and uno build on one"
)
# python block marker -> why the block is only compiled and its imports run
NOT_EXECUTED = {
    'memory.train("./my-base-model")': "needs a base model directory and minutes of LoRA training",
}


@dataclass(frozen=True)
class Block:
    section: str
    language: str
    code: str
    line: int


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    section = ""
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#") and not line.startswith("#!"):
            section = line
        elif line.startswith("```"):
            end = lines.index("```", index + 1)
            blocks.append(Block(section, line[3:].strip(), "\n".join(lines[index + 1 : end]) + "\n", index + 1))
            index = end
        index += 1
    return blocks


def groups() -> dict[str, list[Block]]:
    grouped: dict[str, list[Block]] = {}
    current = ""
    for block in readme_blocks():
        if block.section.startswith("## ") or block.section in OWN_GROUP or not current:
            current = block.section
        grouped.setdefault(current, []).append(block)
    return grouped


GROUPS = groups()


def shell_lines(code: str) -> Iterator[list[str]]:
    for line in code.splitlines():
        words = shlex.split(re.sub(r"\s\[[^\]]*\]", "", line), comments=True)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value before the command
            words = words[1:]
        if words:
            yield words


def not_run_reason(words: list[str]) -> str | None:
    if any(is_store_url(word) for word in words):
        return STORE_URL_NOT_RUN
    command = " ".join(words[:2])
    return NOT_RUN.get(command)


def parse_only(words: list[str]) -> None:
    """Parse a ``uno`` line with the real command, down to its subcommand, without invoking it."""
    context = main.make_context("uno", list(words[1:]))
    command: click.Command = main
    args = context.protected_args + context.args
    while isinstance(command, click.Group) and args:
        name, sub, args = command.resolve_command(context, args)
        assert sub is not None, words
        command = sub
        context = command.make_context(name, list(args), parent=context)
        args = context.protected_args + context.args if isinstance(command, click.Group) else []


def run_shell(block: Block) -> None:
    for words in shell_lines(block.code):
        where = f"README.md:{block.line}: {' '.join(words)}"
        if words[0] == "make":
            makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
            assert re.search(rf"^{re.escape(words[1])}:", makefile, re.M), where
        elif words[0] == "python":
            done = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{where}\n{done.stderr}"
        elif words[0] == "uno" and not_run_reason(words):
            parse_only(words)
        elif words[0] == "uno":
            result = CliRunner().invoke(main, words[1:], catch_exceptions=False)
            assert result.exit_code == 0, f"{where}\n{result.output}"
        else:
            raise AssertionError(f"{where}: no rule to run or check this command; add one to tests/test_readme.py")


def run_python(block: Block, namespace: dict[str, object]) -> None:
    code = compile(block.code, f"README.md:{block.line}", "exec")
    if any(marker in block.code for marker in NOT_EXECUTED):
        imports = "\n".join(line for line in block.code.splitlines() if line.startswith(("from ", "import ")))
        exec(compile(imports, f"README.md:{block.line}", "exec"), {})
        return
    exec(code, namespace)


def check_json(block: Block) -> None:
    from uno.ingest import parse_record

    payload = json.loads(block.code)
    if isinstance(payload, dict) and "query" in payload and "feedback" in payload:
        record = parse_record(payload)
        assert record.feedback, block.line


@pytest.fixture
def scripted_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    with ScriptedServer(reader) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-readme")
        yield server


def test_the_readme_has_the_blocks_this_test_knows() -> None:
    languages = {block.language for blocks in GROUPS.values() for block in blocks}
    assert languages <= {"python", "bash", "sh", "json"}, languages
    assert sum(len(blocks) for blocks in GROUPS.values()) == len(readme_blocks()) >= 10


def run_group(section: str) -> dict[str, object]:
    """Run one group's blocks in the current directory; its Python namespace after the last block."""
    return run_blocks(GROUPS[section], {"__name__": "readme"})


def run_blocks(blocks: list[Block], namespace: dict[str, object]) -> dict[str, object]:
    for block in blocks:
        if block.language == "python":
            run_python(block, namespace)
        elif block.language in ("bash", "sh"):
            run_shell(block)
        elif block.language == "json":
            check_json(block)
        else:
            raise AssertionError(f"README.md:{block.line}: no rule for ```{block.language} blocks in this test")
    return namespace


@pytest.fixture
def fresh_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNO_STORE", raising=False)
    monkeypatch.delenv("UNO_LLM_MODEL", raising=False)
    return tmp_path


CHECKED_APART = {"## Use it", "### Managing memory by hand"}


@pytest.mark.parametrize("section", [section for section in GROUPS if section not in CHECKED_APART])
def test_the_section_runs_as_written(section: str, fresh_dir: Path) -> None:
    run_group(section)


def test_use_it_learns_from_the_sample_and_injects(fresh_dir: Path, scripted_openai: ScriptedServer) -> None:
    """The first example injects its two users' preference; the LLM example makes real calls (to the script)."""
    first, *rest = GROUPS["## Use it"]
    namespace = run_blocks([first], {"__name__": "readme"})
    augmentation = namespace["aug"]
    assert isinstance(augmentation, Augmentation)
    assert "YES or NO" in augmentation.messages[0]["content"]
    assert augmentation.rules and augmentation.route == "primary"
    run_blocks(rest, namespace)
    assert scripted_openai.count >= 1 and namespace["answer"]
    assert (fresh_dir / "rules.jsonl").stat().st_size > 0  # the command-line block's export
    memory = namespace["memory"]
    assert isinstance(memory, UnoMemory)
    memory.close()


def test_managing_by_hand_leaves_its_files(fresh_dir: Path) -> None:
    blocks = GROUPS["### Managing memory by hand"]
    assert [block.language for block in blocks] == ["python", "bash"]
    run_python(blocks[0], {"__name__": "readme"})
    assert (fresh_dir / "memory.jsonl").stat().st_size > 0 and (fresh_dir / "uno-backup.sqlite").is_file()
    run_shell(blocks[1])
    assert (fresh_dir / "copy" / "uno.sqlite").is_file()


def test_every_pip_install_names_this_distribution_and_its_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = set(project["optional-dependencies"])
    installs = re.findall(r"pip install '?([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?'?", README.read_text(encoding="utf-8"))
    assert installs
    for name, wanted in installs:
        if name.startswith("-") or name == "torch":
            continue
        assert name == project["name"], name
        if wanted not in ("", "..."):  # the prose's "pip install 'uno-memory[...]'" stands for any extra
            assert {extra.strip() for extra in wanted.split(",")} <= extras, wanted


def test_the_two_commands_are_makefile_targets() -> None:
    blocks = GROUPS["## The two commands"]
    assert [list(shell_lines(block.code)) for block in blocks] == [[["make", "demo"]], [["make", "test"]]]
    for block in blocks:
        run_shell(block)


def test_commands_not_run_are_still_valid_commands() -> None:
    with pytest.raises(click.UsageError):
        parse_only(["uno", "serve", "--no-such-option"])
    parse_only(["uno", "serve", "--api-key", "sk-acme=acme"])


def readme_routes() -> list[tuple[str | None, str]]:
    """(method or None, path) of every ``/v1/...`` route the README's prose names; ``a|b`` alternatives expanded."""
    text = README.read_text(encoding="utf-8")
    named = re.findall(r"`(?:(GET|POST|PATCH|DELETE|PUT) )?(/v1/[^`\s]*)`", text)
    routes: list[tuple[str | None, str]] = []
    for method, path in named:
        head, _, last = path.rpartition("/")
        for option in last.split("|"):
            routes.append((method or None, f"{head}/{option}"))
    return routes


def test_every_rest_route_the_readme_names_is_served(tmp_path: Path) -> None:
    from uno.server.app import create_app

    served: dict[str, set[str]] = {}
    app = create_app(tmp_path / "store", api_keys={"sk-acme": "acme"}, upstream="openai/gpt-4o-mini")
    for path, operations in app.openapi()["paths"].items():
        served[re.sub(r"\{[^}]*\}", "{}", path)] = {method.upper() for method in operations}
    routes = readme_routes()
    assert len(routes) >= 15
    for method, path in routes:
        generic = re.sub(r"\{[^}]*\}", "{}", path)
        assert generic in served, path
        assert method is None or method in served[generic], f"{method} {path}"
