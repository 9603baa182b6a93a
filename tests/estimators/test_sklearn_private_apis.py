"""The private scikit-learn APIs the estimators use, imported by name with the arguments the
estimators pass, and the installed scikit-learn within pyproject.toml's pin: a scikit-learn
release that renames or reshapes one fails here, by name, rather than somewhere in a fit."""

import importlib
import inspect
import sys
from pathlib import Path

import pytest
import sklearn
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # a dependency of mlpkit's on Python 3.10
    import tomli as tomllib

# (module, name, the keyword arguments mlpkit.estimators passes to it)
PRIVATE = [
    ("sklearn.utils._param_validation", "Interval", {"closed"}),
    ("sklearn.utils._param_validation", "Options", set()),
    ("sklearn.utils._param_validation", "StrOptions", set()),
    ("sklearn.base", "_fit_context", {"prefer_skip_nested_validation"}),
    ("sklearn.utils.validation", "_check_sample_weight", {"dtype", "ensure_non_negative"}),
    ("sklearn.utils.optimize", "_check_optimize_result", {"max_iter"}),
    ("sklearn.utils.multiclass", "_check_partial_fit_first_call", {"classes"}),
]


@pytest.mark.parametrize("module, name, keywords", PRIVATE, ids=[p[1] for p in PRIVATE])
def test_each_private_api_exists_with_the_arguments_used(module, name, keywords):
    obj = getattr(importlib.import_module(module), name)
    parameters = inspect.signature(obj).parameters
    assert keywords <= set(parameters), (
        f"{module}.{name} no longer takes {sorted(keywords - set(parameters))} (scikit-learn "
        f"{sklearn.__version__}): adapt mlpkit.estimators and the pin in pyproject.toml"
    )


def test_the_installed_scikit_learn_is_the_pinned_range():
    """pyproject.toml pins scikit-learn below the next minor release after the one tested:
    private APIs may change in any minor release."""
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    (pin,) = [Requirement(d) for d in dependencies if Requirement(d).name == "scikit-learn"]
    assert any(spec.operator == "<" for spec in pin.specifier), f"no upper bound in {pin}"
    assert pin.specifier.contains(sklearn.__version__), (
        f"scikit-learn {sklearn.__version__} is outside the tested range {pin}: run "
        "tests/estimators, then move the pin"
    )
