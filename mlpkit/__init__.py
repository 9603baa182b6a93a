"""mlpkit: deep neural networks from scratch in vectorized NumPy, in the course's notation.

Names are imported on first use, so `import mlpkit` stays light (scikit-learn, h5py and
matplotlib load only when something needs them).
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Network": "network",
    "History": "training",
    "gradient_check": "gradcheck",
    "load_h5": "data",
    "load_cat_data": "data",
    "load_image_folder": "data",
    "flatten_images": "data",
    "one_hot": "data",
    "from_one_hot": "data",
    "Standardizer": "data",
    "horizontal_flip": "data",
    "make_flower": "data",
    "save": "persistence",
    "load": "persistence",
    "ImageClassifier": "persistence",
    "ModelFileError": "persistence",
    "random_search": "search",
    "coarse_to_fine": "search",
    "run_trial": "search",
    "SearchResults": "search",
    "LogUniform": "search",
    "OneMinusLogUniform": "search",
    "Uniform": "search",
    "IntUniform": "search",
    "Choice": "search",
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlpkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
