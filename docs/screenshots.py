"""Screenshots for the docs, in headless Chromium (Playwright with the system's Chromium).

    python docs/screenshots.py serve [--data DIR]   # docs/_static/serve.png, committed
    python docs/screenshots.py playground           # docs/_static/playground.png, committed
    python docs/screenshots.py site OUTDIR          # pages of the built site, to look at

`serve` trains a small cat model with `mlpkit train` (300 epochs, 7 hidden units, seed 0),
starts `mlpkit serve` on a free port of 127.0.0.1, uploads one cat and one non-cat photo of the
course's training set and photographs the page once both are classified.
`playground` starts `mlpkit playground` on a free port of 127.0.0.1, clicks the course's flower
preset (4 tanh units, course-planar), lets it train for `--seconds` (default 8) and
photographs the page (1280 x 800, the PNG optimized by Pillow).
`site` photographs the built docs (docs/_build/html): the home page, the course page, a
gallery example and an API page.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MLPKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SITE_PAGES = {
    "home": "index.html",
    "course": "course/index.html",
    "example": "auto_examples/cat_deep.html",
    "api": "reference/api/nn.html",
}


def mlpkit(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "mlpkit", *map(str, args)], check=True,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, **kwargs)


def photos(data: Path, folder: Path):
    """One cat and one non-cat of the course's training set, as a JPEG and a PNG."""
    from PIL import Image

    from mlpkit import load_h5

    images, labels, classes = load_h5(data / "train_catvnoncat.h5")
    cat = folder / "my cat.jpg"
    Image.fromarray(images[list(labels).index(1)]).resize((256, 256)).save(cat, quality=92)
    other = folder / "holiday.png"
    Image.fromarray(images[list(labels).index(0)]).save(other)
    return [cat, other]


def start(command, *args):
    """`mlpkit COMMAND ARGS --port 0` on 127.0.0.1: the process and the URL it prints."""
    server = subprocess.Popen([sys.executable, "-m", "mlpkit", command, *map(str, args),
                               "--port", "0", "--no-access-log"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in server.stdout:
        match = re.search(r" at (http://127\.0\.0\.1:\d+)/", line)
        if match:
            return server, match.group(1)
    server.wait(timeout=30)
    raise SystemExit(f"mlpkit {command} did not start")


def serve(data: Path, png: Path):
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tmp / "cat.npz"
        mlpkit("train", data / "train_catvnoncat.h5", "--test", data / "test_catvnoncat.h5",
               "--epochs", 300, "--hidden", 7, "--seed", 0, "--out", model)
        server, url = start("serve", model)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 760})
                page.goto(f"{url}/")
                expect(page.locator("#model-card")).to_have_attribute("data-loaded", "true")
                page.set_input_files("#file-input", [str(p) for p in photos(data, tmp)])
                expect(page.locator("#results .result.done")).to_have_count(2, timeout=30_000)
                page.screenshot(path=str(png), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("wrote", png)


def playground(png: Path, seconds: float):
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    server, url = start("playground")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/")
            expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
            page.click("button[data-preset='course-planar']")
            page.wait_for_function("() => Number(document.getElementById('boundary')"
                                   ".dataset.updates || 0) >= 2", timeout=60_000)
            page.wait_for_timeout(1000 * seconds)
            page.screenshot(path=str(png))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    Image.open(png).convert("RGB").save(png, optimize=True)
    print("wrote", png, f"({png.stat().st_size // 1024} KB)")


def site(out: Path):
    from playwright.sync_api import sync_playwright

    html = DOCS / "_build" / "html"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path in SITE_PAGES.items():
            page.goto((html / path).as_uri())
            if page.locator(".math").count():  # MathJax typesets after the page has loaded
                page.wait_for_selector("mjx-container", timeout=30_000)
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print("wrote", out / f"{name}.png")
        browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--data", type=Path,
                   default=Path(os.environ.get("MLPKIT_DATA", DOCS.parent.parent / "shared/data")))
    s.add_argument("--out", type=Path, default=DOCS / "_static" / "serve.png")
    g = sub.add_parser("playground")
    g.add_argument("--seconds", type=float, default=8.0, help="of training before the picture")
    g.add_argument("--out", type=Path, default=DOCS / "_static" / "playground.png")
    w = sub.add_parser("site")
    w.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.what == "serve":
        serve(args.data, args.out)
    elif args.what == "playground":
        playground(args.out, args.seconds)
    else:
        site(args.out)


if __name__ == "__main__":
    main()
