"""``uno serve``: the one command that starts the REST API and the memory proxy (as the README documents it)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from openai import OpenAI

from tests.integrations.conftest import SERVE_KEY
from tests.integrations.data import PLAN_QUERY, training_logs
from tests.integrations.serving import LiveServer
from tests.integrations.upstream import ScriptedUpstream, system_text
from uno.cli import main
from uno.server import parse_api_keys


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "no API key"),
        (["--api-key", "just-a-key"], {}, "is not KEY=NAMESPACE"),
        (["--api-key", "k=acme", "--no-auth"], {}, "do not give API keys"),
        ([], {"UNO_API_KEYS": "k=acme,k=globex"}, "two namespaces"),
        (["--api-key", "k=acme", "--upstream", "openai/x", "--upstream-key-env", "UNO_TEST_UNSET"], {}, "is not set"),
    ],
)
def test_serve_refuses_to_start_without_a_clear_configuration(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = CliRunner().invoke(main, ["--store", str(tmp_path), "serve", *args], env={"UNO_API_KEYS": "", **env})

    assert result.exit_code == 2
    assert message in result.output


def test_api_key_specs_parse_from_the_environment_format() -> None:
    assert parse_api_keys("sk-a=acme, sk-g=globex,") == {"sk-a": "acme", "sk-g": "globex"}
    assert parse_api_keys(["sk-a=acme", "sk-a=acme"]) == {"sk-a": "acme"}


@pytest.mark.slow
def test_uno_serve_runs_both_servers_end_to_end_with_the_default_embedder(
    served: LiveServer, upstream: ScriptedUpstream
) -> None:
    """The README command, as a real process: REST in, the packaged MiniLM embedder learns, the proxy injects."""
    with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {SERVE_KEY}"}, timeout=60.0) as http:
        assert http.post("/v1/logs", json={"logs": training_logs("serve-")}).status_code == 200
        assert http.post("/v1/build").json()["rules_by_status"] == {"active": 3}
        augmented = http.post("/v1/augment", json={"query": PLAN_QUERY}).json()
        assert [rule["aspect"] for rule in augmented["rules"]] == ["answer:yes_no"]
    question = f"{PLAN_QUERY} (via uno serve)"
    with OpenAI(base_url=f"{served.base_url}/v1", api_key=SERVE_KEY, max_retries=0) as client:
        completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": question}])
    assert question in (completion.choices[0].message.content or "")
    assert "YES or NO" in system_text(upstream.requests_with(question)[0])
