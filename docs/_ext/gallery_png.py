"""Sphinx-gallery hooks for mlpkit's examples (named by string in conf.py, so the config pickles).

The examples draw through matplotlib's ``Figure`` and the Agg canvas (``mlpkit.apps.plots``),
never pyplot, so sphinx-gallery's matplotlib scraper sees nothing: each example is run with
``--out`` set to a folder of its own, and `PngScraper` shows the PNGs it wrote there.
"""

import os
import shutil
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

DOCS = Path(__file__).resolve().parent.parent
OUT = DOCS / "_build" / "gallery_out"

# Examples slower than about 30 s at their defaults run a smaller, same-lesson setting while
# the docs build (MLPKIT_DOCS_FULL=1 runs them as published).
SHORT_ARGS = {
    "hyperparameter_search": ["--trials", "6"],
    "bias_variance": ["--splits", "2"],
}


def out_dir(src_file) -> Path:
    return OUT / Path(src_file).stem


def reset_argv(gallery_conf, script_vars):
    """The example's command line while the docs build: its own --out folder, emptied first."""
    out = out_dir(script_vars["src_file"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    args = ["--out", str(out)]
    if os.environ.get("MLPKIT_DOCS_FULL") != "1":
        args += SHORT_ARGS.get(Path(script_vars["src_file"]).stem, [])
    return args


class PngScraper:
    """Show the PNG files a code block wrote into the example's --out folder, in order."""

    def __init__(self):
        self.seen = set()

    def __repr__(self):
        return "PngScraper"

    def __call__(self, block, block_vars, gallery_conf):
        out = out_dir(block_vars["src_file"])
        pngs = sorted((p for p in out.glob("*.png") if p not in self.seen),
                      key=lambda p: p.stat().st_mtime_ns)
        names = []
        for png, target in zip(pngs, block_vars["image_path_iterator"], strict=False):
            shutil.copyfile(png, target)
            self.seen.add(png)
            names.append(target)
        return figure_rst(names, gallery_conf["src_dir"])


png_scraper = PngScraper()
