"""Data: the course's HDF5 files, image files and folders, preprocessing in the (n_x, m) layout,
sources that stream mini-batches from files bigger than memory (HDF5, .npy, image folders), and
small synthetic data sets.

Names are imported on first use, so `import mlpkit.data` loads neither h5py nor Pillow.
Imports `mlpkit.io`, `mlpkit.training`, `mlpkit.optim` and `mlpkit.nn`.
"""

import importlib

_EXPORTS = {
    "data_dir": "h5",
    "load_h5": "h5",
    "load_cat_data": "h5",
    "load_image": "images",
    "decode_image": "images",
    "load_image_folder": "images",
    "load_dataset": "images",
    "list_image_folder": "images",
    "IMAGE_EXTENSIONS": "images",
    "flatten_images": "preprocessing",
    "one_hot": "preprocessing",
    "from_one_hot": "preprocessing",
    "Standardizer": "preprocessing",
    "horizontal_flip": "preprocessing",
    "StreamBatch": "sources",
    "HDF5Source": "sources",
    "NpySource": "sources",
    "ImageFilesSource": "sources",
    "ImageFolderSource": "sources",
    "open_source": "sources",
    "BlockShuffle": "streams",
    "evaluate_source": "streams",
    "predict_source": "streams",
    "available_memory": "streams",
    "convert_image_folder": "convert",
    "make_flower": "synthetic",
    "make_moons": "synthetic",
    "make_house_prices": "synthetic",
    "HOUSE_FEATURES": "synthetic",
    "HOUSE_PRICE_WEIGHTS": "synthetic",
    "HOUSE_PRICE_BIAS": "synthetic",
    "HOUSE_PRICE_NOISE": "synthetic",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
