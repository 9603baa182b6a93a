"""Sphinx configuration of mlpkit's documentation (built offline: no inventories fetched).

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

# The examples run in this process while the docs build: one BLAS thread, set before anything
# loads NumPy. On a machine that other jobs keep busy, multithreaded OpenBLAS waits for
# descheduled threads and slows down many times over (the performance page), and the examples'
# matrices are small.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # this checkout's mlpkit, not an installed one

import mlpkit  # noqa: E402

project = "mlpkit"
author = "mlpkit's authors"
copyright = "mlpkit's authors"  # noqa: A001
release = version = mlpkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served with the pages: they read offline
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "sphinx_design",
    "plain_docstrings",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_ext", "reference/api/_toplevel.rst"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_mock_imports = []
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Attributes as fields of their class: an attribute that is also a documented property
# (Network.parameters) would otherwise be described twice
napoleon_use_ivar = True
# The docstrings use `x` for code (Markdown habit); show it as code, not as a broken reference.
default_role = "code"
# sphinx-argparse's domain cannot resolve MyST's "any" links; every link here names its target
suppress_warnings = ["myst.domains"]

html_theme = "pydata_sphinx_theme"
html_title = "mlpkit"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_sidebars = {"index": []}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # run every example when the docs build
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("gallery_png.png_scraper",),
    "reset_argv": "gallery_png.reset_argv",
    "reset_modules": (),
    "first_notebook_cell": (
        "# The example's defaults, its plots in a fresh folder (shown at the end)\n"
        "import sys, tempfile\n"
        "sys.argv = [sys.argv[0], '--out', tempfile.mkdtemp(prefix='mlpkit-')]"
    ),
    "last_notebook_cell": (
        "# Show the plots the example wrote\n"
        "from pathlib import Path\n"
        "from IPython.display import Image, display\n"
        "for png in sorted(Path(sys.argv[2]).glob('*.png'), key=lambda p: p.stat().st_mtime):\n"
        "    display(Image(filename=str(png)))"
    ),
    "download_all_examples": False,
    "min_reported_time": 1,
    "abort_on_example_error": False,
    "show_memory": False,
    "show_signature": False,
    "copyfile_regex": "",
}


def setup(app):
    from toplevel_table import write_table

    app.connect("builder-inited", write_table)
