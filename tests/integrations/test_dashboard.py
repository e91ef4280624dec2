"""The dashboard at /ui, driven in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, via Selenium)
against ``uno serve`` itself on 127.0.0.1: rules with their evidence, a cluster, the augment preview before and
after retiring a rule, the quarantine, the LLM cost chart and the adapters.

Screenshots go to ``$UNO_TEST_ARTIFACTS`` (default ``build/test-artifacts/``), one PNG per view.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rule_store.records import Adapter, AdapterStatus
from tests.integrations.data import PLAN_QUERY, SUBSCRIPTION, training_logs
from tests.integrations.serving import ARTIFACTS, LiveServer
from uno import UnoMemory
from uno.ledger import CallRecord, Ledger

webdriver = pytest.importorskip("selenium.webdriver", reason="the dashboard tests need selenium (the dev extra)")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = Path(os.environ.get("UNO_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("UNO_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
KEY, NAMESPACE = "sk-dash", "acme"
OTHER_NAMESPACE = "globex"
# Tokens in and out of the acme calls, one day each (the cost of the last day unknown); globex's must not show.
ACME_DAYS = [(1200, 300, 0.0021), (800, 150, 0.0012), (2500, 700, 0.0049), (400, 90, 0.0006), (1500, 420, None)]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (`make setup` installs them)",
    ),
]


def _seed_store(root: Path) -> None:
    """What the server will show besides the rules it learns: quarantined lines and ledger entries."""
    bad_lines = root / "import.jsonl"
    good = json.dumps({"user_id": "late", "query": "Can I pause my plan?", "response": "Sure, at any time."})
    bad_lines.write_text(f'{good}\n{{"query": "no answer"}}\nnot json at all\n', encoding="utf-8")
    with UnoMemory(root / "store", namespace=NAMESPACE) as memory:  # no embedder is loaded to import
        memory.ingest_file(bad_lines)
    ledger = Ledger.for_store(root / "store")
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    for age, (tokens_in, tokens_out, cost) in enumerate(reversed(ACME_DAYS)):
        for share in (0.5, 0.5):
            ledger.record(
                CallRecord(
                    model="openai/gpt-4o-mini",
                    purpose="distill" if age % 2 else "gap.prior",
                    prompt_hash=f"h{age}{share}",
                    tokens_in=int(tokens_in * share),
                    tokens_out=int(tokens_out * share),
                    cost_usd=None if cost is None else cost * share,
                    created_at=today - timedelta(days=age),
                    namespace=NAMESPACE,
                )
            )
    ledger.record(
        CallRecord(model="m", purpose="distill", prompt_hash="x", tokens_in=99_999, namespace=OTHER_NAMESPACE)
    )
    ledger.close()


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("dashboard")
    _seed_store(root)
    command = [str(Path(sys.executable).with_name("uno")), "--store", str(root / "store"), "serve"]
    # The key vouches for its users' ids (docs/threat-model.md), so the rules its users agree on are shared.
    command += ["--port", "{port}", "--api-key", f"{KEY}={NAMESPACE}", "--vouch-users", "--log-level", "warning"]
    server = LiveServer(command, {}, root / "serve.log", root / "store")
    try:
        server.wait_ready(timeout_s=180)
        _learn(server)
        yield server
    finally:
        server.stop()


def _learn(server: LiveServer) -> None:
    """Three rules learnt through the API, and an adapter registered for one of the clusters."""
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120.0) as http:
        assert http.post("/v1/logs", json={"logs": training_logs()}).status_code == 200
        assert http.post("/v1/build").json()["rules_by_status"] == {"active": 3}
        cluster = http.get("/v1/clusters").json()["clusters"][0]
    with UnoMemory(server.store, namespace=NAMESPACE) as memory:
        memory.store.upsert_adapters(
            [
                Adapter(
                    namespace=NAMESPACE,
                    cluster_id=cluster["id"],
                    base_model="smollm2",
                    status=AdapterStatus.ACCEPTED,
                    # what uno.train.validate writes for an accepted adapter
                    status_reason=(
                        "accepted: win rate 0.620 at epoch 1 over 12 held-out item(s) (threshold 0.53; without the "
                        "BLEU guard 0.650; mean BLEU vs base 0.310; judge score 7.10 vs base 6.20)"
                    ),
                    metrics={
                        "win_rate": 0.62,
                        "win_rate_ungated": 0.65,
                        "mean_bleu": 0.31,
                        "best_epoch": 1.0,
                        "validation_items": 12.0,
                        "judge_failures": 0.0,
                    },
                )
            ]
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def wait_for(driver: WebDriver, condition: Any, what: str, timeout_s: float = 30.0) -> Any:
    def check(d: WebDriver) -> Any:
        try:
            return condition(d)
        except StaleElementReferenceException:  # the page re-rendered the list under us: look again
            return False

    return WebDriverWait(driver, timeout_s).until(check, message=f"waiting for {what}")


def cards(driver: WebDriver, selector: str) -> list[WebElement]:
    return [card for card in driver.find_elements(By.CSS_SELECTOR, selector) if card.is_displayed()]


def open_tab(driver: WebDriver, name: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'#tabs button[data-tab="{name}"]').click()
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == name, name)


def preview(driver: WebDriver, query: str) -> list[str]:
    """Run the augment preview for ``query``; the aspects of the rules it would inject."""
    open_tab(driver, "preview")
    driver.execute_script("document.getElementById('augment-result').replaceChildren()")
    box = driver.find_element(By.ID, "augment-query")
    box.clear()
    box.send_keys(query)
    driver.find_element(By.ID, "augment-run").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "augment-rules"), "the augment preview")
    return [li.get_attribute("data-aspect") or "" for li in driver.find_elements(By.CSS_SELECTOR, "#augment-rules li")]


def test_the_dashboard_shows_what_uno_learnt_and_a_retired_rule_leaves_the_preview(
    dashboard_server: LiveServer, browser: WebDriver, artifacts: Path
) -> None:
    browser.get(f"{dashboard_server.base_url}/ui")
    browser.find_element(By.ID, "api-key").send_keys(KEY)
    browser.find_element(By.ID, "connect").click()
    wait_for(browser, lambda d: len(cards(d, "#rule-list .rule")) == 3, "three rule cards")
    assert f"tenant {NAMESPACE}" in browser.find_element(By.ID, "tenant").text
    yes_no = browser.find_element(By.CSS_SELECTOR, '.rule[data-aspect="answer:yes_no"]')
    assert "YES or NO" in yes_no.find_element(By.CSS_SELECTOR, ".evidence").text, "evidence quotes are shown"
    yes_no.find_element(By.CSS_SELECTOR, "button.details").click()
    wait_for(browser, lambda d: "actionable" in yes_no.find_element(By.CSS_SELECTOR, ".rule-details").text, "verdicts")
    browser.save_screenshot(str(artifacts / "01-rules.png"))

    search = browser.find_element(By.ID, "rule-filter")
    search.send_keys("bullet")
    wait_for(browser, lambda d: len(cards(d, "#rule-list .rule")) == 1, "the filtered rule list")
    assert cards(browser, "#rule-list .rule")[0].get_attribute("data-aspect") == "format:lists"
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.BACKSPACE)  # typed, unlike clear(), so the page hears it
    wait_for(browser, lambda d: len(cards(d, "#rule-list .rule")) == 3, "the whole rule list again")

    open_tab(browser, "clusters")
    subscription = wait_for(
        browser,
        lambda d: [
            c for c in cards(d, "#cluster-list .cluster") if SUBSCRIPTION[0] in c.text or "subscription" in c.text
        ],
        "the subscription cluster",
    )[0]
    assert subscription.get_attribute("data-route") == "primary"
    assert "answer:yes_no" in subscription.text, "the cluster names its rule"
    assert any(q in subscription.find_element(By.CSS_SELECTOR, ".queries").text for q in SUBSCRIPTION)
    browser.save_screenshot(str(artifacts / "02-clusters.png"))

    assert preview(browser, PLAN_QUERY) == ["answer:yes_no"]
    assert "route primary" in browser.find_element(By.ID, "augment-summary").text
    assert "YES or NO" in browser.find_element(By.CSS_SELECTOR, "#augment-result .message pre").text
    browser.save_screenshot(str(artifacts / "03-augment-preview.png"))

    open_tab(browser, "rules")
    browser.find_element(By.CSS_SELECTOR, '.rule[data-aspect="answer:yes_no"] button.retire').click()
    wait_for(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, '.rule[data-aspect="answer:yes_no"]').get_attribute("data-status")
            == "retired"
        ),
        "the rule to be retired",
    )
    assert (
        "retired from the dashboard" in browser.find_element(By.CSS_SELECTOR, '.rule[data-aspect="answer:yes_no"]').text
    )
    _check_optional_buttons(dashboard_server, browser)
    browser.save_screenshot(str(artifacts / "04-rule-retired.png"))

    assert preview(browser, PLAN_QUERY) == [], "a retired rule is no longer injected"
    browser.save_screenshot(str(artifacts / "05-augment-preview-after-retire.png"))

    open_tab(browser, "cost")
    wait_for(browser, lambda d: d.find_elements(By.ID, "cost-chart"), "the cost chart")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cost-chart rect.bar.tokens-in")) == len(ACME_DAYS)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cost-chart circle.cost-dot")) == len(ACME_DAYS) - 1
    totals = browser.find_element(By.ID, "ledger-totals").text
    assert str(sum(t for t, _, _ in ACME_DAYS)) in totals, "acme's tokens, and not globex's"
    assert "99999" not in browser.find_element(By.ID, "ledger-purposes").text
    browser.save_screenshot(str(artifacts / "06-cost-chart.png"))

    open_tab(browser, "quarantine")
    reasons = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#quarantine-list tr.quarantined")]
    assert len(reasons) == 2 and any("response" in r for r in reasons), reasons
    browser.save_screenshot(str(artifacts / "07-quarantine.png"))

    open_tab(browser, "adapters")
    adapters = browser.find_elements(By.CSS_SELECTOR, "#adapter-list tr.adapter")
    assert len(adapters) == 1 and "win_rate 0.620" in adapters[0].text
    browser.save_screenshot(str(artifacts / "08-adapters.png"))


def _check_optional_buttons(server: LiveServer, browser: WebDriver) -> None:
    """Restore, pin and unpin appear exactly when the server's OpenAPI document has their routes."""
    paths = httpx.get(f"{server.base_url}/openapi.json").json()["paths"]
    retired = browser.find_element(By.CSS_SELECTOR, '.rule[data-aspect="answer:yes_no"]')
    has_restore = "/v1/rules/{rule_id}/restore" in paths
    assert bool(retired.find_elements(By.CSS_SELECTOR, "button.restore")) == has_restore
    assert bool(browser.find_elements(By.CSS_SELECTOR, "button.pin")) == ("/v1/rules/{rule_id}/pin" in paths)
    assert not retired.find_elements(By.CSS_SELECTOR, "button.retire"), "a retired rule offers no retire button"
