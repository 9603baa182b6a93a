"""Random hyperparameter search as the notes teach it: distributions on the scale where each
hyperparameter acts, trials, runners that execute them (local processes, any
concurrent.futures executor, a Dask cluster), results (in memory, and in an output folder that
a rerun continues), space files, and coarse-to-fine rounds.

Imports `mlpkit.data`, `mlpkit.io`, `mlpkit.training`, `mlpkit.optim` and `mlpkit.nn`.
"""

from .distributions import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    Uniform,
    check_space,
)
from .results import SearchResults
from .results_file import ResultsFile
from .runners import run_trials
from .space_file import default_space, load_space
from .strategies import coarse_to_fine, random_search, zoom_space
from .trials import build_network, make_optimizer, run_trial, sample_trials, train_network

__all__ = [
    "Choice",
    "IntUniform",
    "LogUniform",
    "OneMinusLogUniform",
    "ResultsFile",
    "SearchResults",
    "Uniform",
    "build_network",
    "check_space",
    "coarse_to_fine",
    "default_space",
    "load_space",
    "make_optimizer",
    "random_search",
    "run_trial",
    "run_trials",
    "sample_trials",
    "train_network",
    "zoom_space",
]
