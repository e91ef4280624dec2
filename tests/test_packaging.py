"""The distribution: its name, licence, and an sdist that holds everything the tests need (built offline)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from uno.extras import DISTRIBUTION, MissingExtraError, install_command, require

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_distribution_is_uno_memory_and_imports_as_uno() -> None:
    project = PYPROJECT["project"]
    assert project["name"] == DISTRIBUTION == "uno-memory"
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in project["classifiers"])
    # `dev` names the distribution itself, so it must use the new name (a stale `uno[...]` would pull PyPI's uno).
    assert project["optional-dependencies"]["dev"][0].startswith("uno-memory[")
    assert "mcp" in project["optional-dependencies"]


def test_uno_version_names_the_distribution() -> None:
    from click.testing import CliRunner

    from uno import __version__
    from uno.cli import main

    result = CliRunner().invoke(main, ["--version"])

    assert result.exit_code == 0 and result.output == f"uno {__version__} (uno-memory)\n"
    assert PYPROJECT["project"]["version"] == __version__


def test_license_is_the_apache_2_text() -> None:
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_readme_installs_the_distribution_not_pypis_uno() -> None:
    readme = (REPO / "README.md").read_text()
    assert "pip install 'uno-memory[" in readme
    assert "'uno[" not in readme and "`uno[" not in readme


@pytest.mark.slow
def test_sdist_holds_the_tests_fixtures_and_notebook(tmp_path: Path) -> None:
    """Built from a copy of the checkout (setuptools writes egg-info next to the sources), offline, no isolation."""
    source = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((REPO / name).read_bytes())
    out = tmp_path / "dist"
    build = "import sys, setuptools.build_meta as b; print(b.build_sdist(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", build, str(out)], cwd=source, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    archive = out / done.stdout.strip().splitlines()[-1]
    assert archive.name == "uno_memory-0.1.0.tar.gz"

    with tarfile.open(archive) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    wanted = {name for name in files if name.startswith(("tests/", "notebooks/", "docs/", "benchmarks/"))}
    wanted |= {"LICENSE", "README.md", "pyproject.toml", "Makefile", "constraints.txt", "uno/data/sample_logs.jsonl"}
    assert wanted - names == set(), "files missing from the sdist"
    assert "tests/fixtures/plain.jsonl" in names and "notebooks/quickstart.ipynb" in names
    assert not any("__pycache__" in name for name in names)


def test_a_missing_extra_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)

    with pytest.raises(MissingExtraError) as raised:
        require("litellm", extra="llm", feature="LiteLLM")

    assert str(raised.value) == "LiteLLM needs the [llm] extra (litellm is not installed): " + install_command("llm")
    assert install_command("llm") == "pip install 'uno-memory[llm]'"
    assert isinstance(raised.value, ImportError) and raised.value.name == "litellm"


def test_as_runnable_without_langchain_names_the_pip_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from uno import UnoMemory
    from uno.embed import HashingEmbedder

    monkeypatch.setitem(sys.modules, "langchain_core", None)
    with UnoMemory(tmp_path, embedder=HashingEmbedder(64)) as memory, pytest.raises(MissingExtraError) as raised:
        memory.as_runnable(object())

    assert "pip install 'uno-memory[langchain]'" in str(raised.value)


def test_uno_serve_without_the_server_extra_names_the_pip_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from uno.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(main, ["--store", str(tmp_path), "serve", "--no-auth"])

    assert result.exit_code == 2
    assert "uno serve needs the [server] extra (uvicorn is not installed)" in result.output
    assert "pip install 'uno-memory[server]'" in result.output


@pytest.mark.parametrize(
    ("blocked", "module", "extra"),
    [
        ("fastapi", "uno.server", "server"),
        ("langchain_core", "uno.integrations.langchain", "langchain"),
        ("mcp", "uno.integrations.mcp", "mcp"),
    ],
)
def test_importing_an_integration_without_its_extra_names_the_pip_install(
    blocked: str, module: str, extra: str
) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "try:\n"
        f"    import {module}\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout

    assert out.startswith("MissingExtraError ")
    assert f"needs the [{extra}] extra ({blocked} is not installed): pip install 'uno-memory[{extra}]'" in out


def test_a_missing_module_of_uno_itself_is_not_called_a_missing_extra() -> None:
    with pytest.raises(ModuleNotFoundError) as raised:
        require("uno.no_such_module", extra="llm", feature="nothing")

    assert not isinstance(raised.value, MissingExtraError)
