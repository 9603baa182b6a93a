"""Write the table of `mlpkit.__all__` for the API page when the docs build, so it cannot drift.

Each name links to where it is documented: its subpackage when the subpackage's `__all__`
exports it, else the module that defines it (mlpkit imports every name lazily from there).
"""

import importlib
import re
from pathlib import Path

import mlpkit

TABLE = Path(__file__).resolve().parent.parent / "reference" / "api" / "_toplevel.rst"


def documented_as(name: str) -> str:
    """The documented (canonical) name of `mlpkit.<name>`."""
    module = f"mlpkit.{mlpkit._EXPORTS[name]}"
    package = importlib.import_module(".".join(module.split(".")[:2]))
    if name in getattr(package, "__all__", ()):
        return f"{package.__name__}.{name}"
    return f"{module}.{name}"


def summary(obj) -> str:
    """The docstring's first sentence, on one line."""
    paragraph = " ".join((obj.__doc__ or "").strip().split("\n\n")[0].split())
    match = re.match(r"(.+?[.:])(\s|$)", paragraph)
    return match.group(1) if match else paragraph


def write_table(app=None) -> None:
    rows = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "",
            "   * - name", "     - what"]
    for name in mlpkit.__all__:
        if name == "__version__":
            continue
        rows += [f"   * - :py:obj:`mlpkit.{name} <{documented_as(name)}>`",
                 f"     - {summary(getattr(mlpkit, name))}"]
    text = "\n".join(rows) + "\n"
    if not TABLE.exists() or TABLE.read_text() != text:
        TABLE.write_text(text)
