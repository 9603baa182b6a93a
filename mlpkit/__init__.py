"""mlpkit: deep neural networks from scratch in vectorized NumPy, in the course's notation.

Names are imported on first use, so `import mlpkit` stays light (scikit-learn, h5py and
matplotlib load only when something needs them).
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Network": "nn.network",
    "History": "training.state",
    "TrainingState": "training.state",
    "DivergenceError": "training.loop",
    "TrainingInterrupted": "training.loop",
    "diagnose": "training.diagnosis",
    "Diagnosis": "training.diagnosis",
    "gradient_check": "nn.gradcheck",
    "load_h5": "data.h5",
    "load_cat_data": "data.h5",
    "load_image_folder": "data.images",
    "flatten_images": "data.preprocessing",
    "one_hot": "data.preprocessing",
    "from_one_hot": "data.preprocessing",
    "Standardizer": "data.preprocessing",
    "horizontal_flip": "data.preprocessing",
    "make_flower": "data.synthetic",
    "save": "io.model_files",
    "load": "io.model_files",
    "ImageClassifier": "apps.image_classifier",
    "ModelFileError": "io.model_files",
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
    "to_onnx": "io.onnx",
    "register_skl2onnx": "estimators.skl2onnx_converters",
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
