"""Every public function and class of the API has numpydoc sections: each parameter documented
(Parameters), what it gives back (Returns, or Yields), checked with numpydoc's own validator."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import mlpkit

numpydoc_validate = pytest.importorskip("numpydoc.validate", reason="numpydoc: the [docs] extra")

# GL08: no docstring; PR01: a parameter not documented; PR02: a documented parameter that does
# not exist; RT01: no Returns section where the code returns a value; YD01: no Yields section
CHECKS = {"GL08", "PR01", "PR02", "RT01", "YD01"}
SUBPACKAGES = sorted(m.name for m in pkgutil.iter_modules(mlpkit.__path__) if m.ispkg)


def public_api():
    """{qualified name: object}: the functions and classes of the `__all__` of mlpkit and of
    each subpackage, with the public methods the classes define themselves."""
    found = {}
    for sub in ["", *SUBPACKAGES]:
        package = importlib.import_module(f"mlpkit{'.' if sub else ''}{sub}")
        for name in getattr(package, "__all__", ()):
            obj = getattr(package, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in found:
                found[id(obj)] = (f"{obj.__module__}.{obj.__qualname__}", obj)
    names = {}
    for qualified, obj in found.values():
        names[qualified] = obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    names[f"{qualified}.{attr}"] = member
    return names


API = public_api()


@pytest.mark.parametrize("name", sorted(API))
def test_numpydoc_sections(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code in CHECKS]
    assert not errors, f"{name}: " + "; ".join(errors)
