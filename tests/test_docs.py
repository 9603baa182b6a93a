"""The documentation site, read from the build in docs/_build/html (the README's test command
builds it before pytest): every public name documented, every example rendered with its
figures and a notebook that runs, the docstrings' examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import mlpkit

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SITE = DOCS / "_build" / "html"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
BUILD = "python -m sphinx -W --keep-going -b html docs docs/_build/html"
SUBPACKAGES = sorted(m.name for m in pkgutil.iter_modules(mlpkit.__path__) if m.ispkg)

sys.path.insert(0, str(DOCS / "_ext"))
from gallery_png import SHORT_ARGS  # noqa: E402  (the docs build's settings)


@pytest.fixture(scope="module")
def site():
    if not (SITE / "objects.inv").is_file():
        pytest.fail(f"the documentation is not built: run `{BUILD}` from the repository root "
                    "first (the README's test command does)")
    return SITE


@pytest.fixture(scope="module")
def inventory(site):
    """{name: uri} of every Python object the site documents."""
    from sphinx.util.inventory import InventoryFile

    loaded = InventoryFile.loads((site / "objects.inv").read_bytes(), uri="")
    data = getattr(loaded, "data", loaded)  # Sphinx >= 8.2 wraps the mapping
    return {name: item[2] if isinstance(item, tuple) else item.uri
            for role, items in data.items() if role.startswith("py:")
            for name, item in items.items()}


def homes(name):
    """The names under which `mlpkit.<name>` may be documented: itself, its subpackage's
    export, or the module that defines it."""
    obj = getattr(mlpkit, name)
    names = {f"mlpkit.{name}", f"{getattr(obj, '__module__', '')}.{name}"}
    for sub in SUBPACKAGES:
        package = importlib.import_module(f"mlpkit.{sub}")
        if name in getattr(package, "__all__", ()) and getattr(package, name) is obj:
            names.add(f"mlpkit.{sub}.{name}")
    return names


def test_every_name_of_mlpkit_is_documented(inventory):
    missing = [name for name in mlpkit.__all__ if not homes(name) & inventory.keys()]
    assert not missing, f"not in objects.inv: {missing}"
    assert "mlpkit.__version__" in inventory


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_every_public_name_of_each_subpackage_is_documented(inventory, sub):
    package = importlib.import_module(f"mlpkit.{sub}")
    if hasattr(package, "__all__"):
        missing = [n for n in package.__all__ if f"mlpkit.{sub}.{n}" not in inventory]
        assert not missing, f"mlpkit.{sub}: not in objects.inv: {missing}"
    else:  # no __all__ (the apps): its public modules, the command line on its own page
        modules = [m.name for m in pkgutil.iter_modules(package.__path__)
                   if not m.name.startswith(("_", "cmd_", "cli"))]
        missing = [m for m in modules if f"mlpkit.{sub}.{m}" not in inventory
                   and m not in {"web"}]  # web: the app of `mlpkit serve`, on its own page
        assert not missing, f"mlpkit.{sub}: modules not in objects.inv: {missing}"


def test_the_command_line_page_has_every_command(site):
    from mlpkit.apps.cli import build_parser

    html = (site / "reference" / "cli.html").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices
    assert commands
    missing = [c for c in commands if f">{c}<" not in html]
    assert not missing, f"commands missing from the CLI page: {missing}"


def wrote(html):
    """The PNG files an example's printed output says it wrote."""
    return set(re.findall(r"wrote \S*?/([\w.-]+\.png)", html))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_rendered_with_its_figures_and_a_notebook(site, example):
    page = site / "auto_examples" / f"{example.stem}.html"
    assert page.is_file(), f"{page} missing"
    html = page.read_text()
    assert "Traceback" not in html and "failed to execute" not in html
    images = set(re.findall(rf'src="\.\./(_images/sphx_glr_{example.stem}_\d+\.png)"', html))
    assert images, f"{page.name} shows no figure"
    assert len(images) == len(wrote(html)), (sorted(images), sorted(wrote(html)))
    for image in images:
        assert (site / image).stat().st_size > 5000, image  # a real plot, not an empty canvas
    notebooks = list(site.glob(f"_downloads/*/{example.stem}.ipynb"))
    assert notebooks and re.search(rf'href="[^"]*/{example.stem}\.ipynb"', html)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_notebook_runs_top_to_bottom_and_shows_the_figures(site, example, tmp_path,
                                                                monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    (notebook,) = site.glob(f"_downloads/*/{example.stem}.ipynb")
    nb = nbformat.read(notebook, as_version=4)
    short = SHORT_ARGS.get(example.stem, [])
    if short:  # the docs build's shorter setting, after the cell that sets the command line
        (first,) = [i for i, c in enumerate(nb.cells) if "sys.argv = " in c.source]
        nb.cells.insert(first + 1, nbformat.v4.new_code_cell(f"sys.argv += {short!r}"))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [o for o in nb.cells[-1].outputs if "image/png" in o.get("data", {})]
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert shown and len(shown) == len(wrote(printed)), printed[-2000:]


def public_modules():
    for info in pkgutil.walk_packages(mlpkit.__path__, "mlpkit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield info.name


def test_the_docstrings_examples_run():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failed = []
    for name in public_modules():
        for test in finder.find(importlib.import_module(name), name):
            if test.examples and test.name.startswith(name):  # not the ones it imports
                if runner.run(test).failed:
                    failed.append(test.name)
    assert runner.tries >= 10, f"only {runner.tries} docstring examples found"
    assert not failed, f"docstring examples failed (printed above): {failed}"
