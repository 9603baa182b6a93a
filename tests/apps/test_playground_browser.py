"""The playground's page in a real headless Chromium (the system's, driven by Playwright, as for
serve's page): the flower with 4 tanh units trained live, the views updating before the end,
the final accuracy equal to the API's, a diagnosis suggestion applied, two runs compared, the
Python snippet exported and run, and a closed page stopping its run. Screenshots go to
$MLPKIT_SCREENSHOT_DIR (default: the test's temporary folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .serving import ENV
from .test_playground import Playground
from .test_serve_browser import browser, page  # noqa: F401 (serve's fixtures)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Playground("--no-access-log", log_dir=tmp_path_factory.mktemp("playground-page"))
    yield server
    server.stop()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("MLPKIT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shot(tab, name):
        path = folder / f"playground_{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    return shot


def current_run(tab):
    return tab.locator("#status").get_attribute("data-run")


def wait_done(tab, previous=None, timeout=180_000):
    tab.wait_for_function(
        "(previous) => document.getElementById('status').dataset.done === 'true' && "
        "document.getElementById('status').dataset.run && "
        "document.getElementById('status').dataset.run !== previous", arg=previous,
        timeout=timeout)
    return current_run(tab)


def test_train_the_flower_diagnose_compare_and_export(page, server, shots, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{server.url}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    page.select_option("#dataset", "flower")
    page.fill("input[name=epochs]", "3000")
    page.fill("input[name=dev_points]", "1000")  # enough to tell gaps of 2 points from noise
    page.locator("#layers input[data-layer='0']").fill("4")
    page.locator("#layers input[data-layer='0']").dispatch_event("change")
    page.select_option("#layers select[data-layer='0']", "tanh")
    assert "hidden=4" in page.url and "activation=tanh" in page.url  # the settings in the URL
    page.click("#play")
    # the boundary and the curves update several times before the end
    page.wait_for_function(
        "() => Number(document.getElementById('boundary').dataset.updates) >= 3 && "
        "Number(document.getElementById('cost-chart').dataset.updates) >= 3",
        timeout=120_000)
    assert page.locator("#final-train-accuracy").inner_text() == "–"  # not finished yet
    shots(page, "training")
    first = wait_done(page)
    record = httpx.get(f"{server.url}/api/runs/{first}").json()
    member = record["members"][0]
    assert record["status"] == "finished"
    assert member["settings"]["hidden"] == [4] and member["settings"]["activation"] == ["tanh"]
    assert member["settings"]["dataset"] == "flower"
    accuracy = member["final"]["train_accuracy"]
    assert page.locator("#final-train-accuracy").get_attribute("data-value") == str(accuracy)
    expect(page.locator("#final-train-accuracy")).to_have_text(f"{100 * accuracy:.2f}%")
    boundary_updates = int(page.locator("#boundary").get_attribute("data-updates"))
    assert boundary_updates >= 3
    expect(page.locator("#verdict")).to_have_text(member["diagnosis"]["verdict"])
    page.click("#gradcheck")
    expect(page.locator("#gradcheck-result")).to_contain_text("relative difference",
                                                             timeout=60_000)
    shots(page, "finished")

    # the exported snippet reproduces the run
    href = page.locator("#export-python").get_attribute("href")
    script = tmp_path / "snippet.py"
    script.write_text(httpx.get(f"{server.url}{href}").text)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=ENV, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"train accuracy {accuracy:.4f}" in out.stdout

    # keep it, apply a suggestion of the diagnosis (a new run), keep that too: compare
    page.click("#keep")
    expect(page.locator("#compare-table tbody tr")).to_have_count(1)
    apply = page.locator("button.apply").first
    setting = apply.get_attribute("data-setting")
    apply.click()
    second = wait_done(page, previous=first)
    changed = httpx.get(f"{server.url}/api/runs/{second}").json()["members"][0]["settings"]
    key = {"--hidden": "hidden", "--epochs": "epochs", "--optimizer": "optimizer",
           "--l2": "l2", "--dropout": "keep_prob", "--patience": "patience",
           "--batch-norm": "batch_norm", "--init": "init"}[setting]
    assert changed[key] != member["settings"][key], (setting, changed[key])
    page.click("#keep")
    expect(page.locator("#compare-table tbody tr")).to_have_count(2)
    shots(page, "compared")
    assert not page.js_errors, page.js_errors
    assert all(url.startswith(server.url) for url in page.requested)  # no CDN


def test_a_preset_and_a_closed_page(browser, server, shots):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.goto(f"{server.url}/?hidden=16,16&activation=relu,relu&epochs=20000&init=he")
    expect(tab.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert tab.locator("#layers input").count() == 2  # the link's settings
    tab.click("#play")
    tab.wait_for_function("() => document.getElementById('status').textContent"
                           ".includes('running')", timeout=60_000)
    run_id = tab.locator("#status").inner_text().split()[1].rstrip(":")
    context.close()  # the page goes away: its stream closes and the run stops
    deadline = time.monotonic() + 30
    while (record := httpx.get(f"{server.url}/api/runs/{run_id}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert record["status"] == "stopped" and "page was closed" in record["stop_reason"]

    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    tab = context.new_page()
    tab.goto(f"{server.url}/")
    expect(tab.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    tab.click("button[data-preset='course-planar']")
    wait_done(tab, timeout=300_000)
    expect(tab.locator("#final-train-accuracy")).to_have_text("90.75%")
    shots(tab, "course_planar")
    context.close()
