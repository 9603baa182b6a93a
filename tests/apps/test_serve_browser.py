"""The page of `mlpkit serve` in a real headless Chromium: Debian's `chromium`, driven by
Playwright (whose own browser download cannot be used here). Skips with a reason when there is
no system Chromium, fails instead under MLPKIT_REQUIRE_BROWSER=1 (CI)."""

import io
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.io.model_files import read_metadata

from .serving import mlpkit_cmd

# without the background-networking flags Chromium's own connections are refused here
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def system_chromium():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    path, reason = system_chromium(), None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[test]')"
    if path is None:
        reason = "no system Chromium (/usr/bin/chromium): apt-get install -y chromium"
    if reason:
        if os.environ.get("MLPKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page; its JavaScript errors and the URLs it requested are recorded."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.js_errors, page.requested, page.dialogs = [], [], []
    page.on("dialog", lambda dialog: page.dialogs.append(dialog.message) or dialog.dismiss())
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.on("request", lambda request: page.requested.append(request.url))
    yield page
    context.close()


def open_page(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/")
    expect(page.locator("#model-card")).to_have_attribute("data-loaded", "true")


def fact(page, key):
    return page.locator(f'[data-fact="{key}"]').inner_text()


def test_the_page_classifies_a_cat_and_a_non_cat(page, cat_server, cat_model_file, cat_photos,
                                                 tmp_path):
    from playwright.sync_api import expect

    cat = cat_photos["cat"]
    other = tmp_path / "<img src=x onerror=alert(1)>non-cat.png"  # shown as text, not as HTML
    other.write_bytes(cat_photos["non-cat"].read_bytes())
    open_page(page, cat_server)
    expect(page.locator("#title")).to_have_text("Is this a cat?")
    recorded = read_metadata(cat_model_file)["metadata"]
    assert fact(page, "classes") == "non-cat, cat"
    assert fact(page, "image-size") == "64 × 64 RGB"
    assert fact(page, "architecture") == "12288 → 7 relu → 1 sigmoid"
    assert fact(page, "train-accuracy") == f"{100 * recorded['train_accuracy']:.1f}%"
    assert fact(page, "test-accuracy") == f"{100 * recorded['test_accuracy']:.1f}%"
    assert fact(page, "mlpkit-version") == mlpkit.__version__

    page.set_input_files("#file-input", [str(cat), str(other)])
    results = page.locator("#results .result.done")
    expect(results).to_have_count(2, timeout=30_000)

    expected = {answer["path"]: answer for answer in json.loads(
        mlpkit_cmd("predict", cat_model_file, cat, other, "--json").stdout)}
    truth = {cat.name: "cat", other.name: "non-cat"}
    seen = []
    for result in results.all():
        name = result.locator(".filename").inner_text()
        want = expected[str(cat if name == cat.name else other)]
        seen.append(name)
        assert result.get_attribute("data-class") == want["class"] == truth[name]
        assert result.locator(".class-name").inner_text() == want["class"]
        bars = result.locator(".bar").all()
        assert [bar.get_attribute("data-class") for bar in bars] == ["non-cat", "cat"]
        for bar in bars:
            p = want["probabilities"][bar.get_attribute("data-class")]
            assert float(bar.get_attribute("data-probability")) == pytest.approx(p, rel=1e-9,
                                                                                 abs=1e-12)
            shown = float(bar.locator(".value").inner_text().rstrip("%"))
            assert abs(shown - 100 * p) <= 0.05 + 1e-9
            width = float(bar.locator(".fill").get_attribute("style").split(":")[1].strip(" %;"))
            assert width == pytest.approx(100 * p, abs=0.006)
        assert result.locator("img.thumb").evaluate("img => img.naturalWidth") > 0
    assert sorted(seen) == sorted(truth)
    assert page.locator("#results img:not(.thumb)").count() == 0 and page.dialogs == []
    summary = page.locator("#summary").inner_text()
    assert summary.startswith("2 photos:") and "1 cat" in summary and "1 non-cat" in summary
    assert page.js_errors == []
    assert all(url.startswith((cat_server.url, "blob:")) for url in page.requested), page.requested
    screenshot = tmp_path / "serve_page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    with Image.open(screenshot) as image:
        assert image.format == "PNG" and image.width == 1100
    print(f"screenshot: {screenshot}")


def test_dropped_files_an_unreadable_one_and_a_model_without_records(page, start_server,
                                                                      tmp_path):
    from playwright.sync_api import expect

    model = ImageClassifier.build(["bird", "cat", "dog"], 16, (4,), seed=0)
    server = start_server(mlpkit.save(model, tmp_path / "pets.npz"))
    open_page(page, server)
    expect(page.locator("#title")).to_have_text("What is in this picture?")
    assert fact(page, "train-accuracy") == fact(page, "test-accuracy") == "not recorded"

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 20, 3), np.uint8)).save(
        buffer, "PNG")
    files = [("bird.png", list(buffer.getvalue()), "image/png"),
             ("notes.txt", list(b"not a picture"), "text/plain")]
    transfer = page.evaluate_handle("""files => {
        const transfer = new DataTransfer();
        for (const [name, bytes, type] of files) {
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type}));
        }
        return transfer;
    }""", files)
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#results .result.done")).to_have_count(1, timeout=30_000)
    expect(page.locator("#results .result.failed")).to_have_count(1)
    failed = page.locator("#results .result.failed .error").inner_text()
    assert failed == "notes.txt: not an image in a supported format (JPEG, PNG, GIF, BMP, WebP)"
    done = page.locator("#results .result.done")
    assert done.locator(".filename").inner_text() == "bird.png"
    assert done.locator(".bar").count() == 3
    assert page.js_errors == []
