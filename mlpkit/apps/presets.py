"""The settings of a playground run, and the course's runs as presets, defined once: the
playground, its tests and `examples/` read them from here.

A run's settings are a flat dict (`DEFAULTS` lists every key). `network(settings, n_classes)`
and `fit_options(settings)` turn them into `Network(...)` and the options of `Network.fit`;
`python_snippet` writes the same calls as a script. Imports no web framework.
"""

from __future__ import annotations

import numpy as np

from ..nn.network import Network
from ..optim.optimizers import Adam, GradientDescent, Momentum, RMSprop
from ..optim.schedules import ExponentialDecay, InverseTimeDecay, StaircaseDecay
from .playground_data import CSV, DATASETS, SettingsError, make_data

__all__ = ["DEFAULTS", "PRESETS", "fit_options", "large_random", "make_data", "network",
           "python_snippet", "settings_of"]


def large_random(n_out, n_in, rng):
    """W ~ N(0, 1) * 10 (the course's "large random" initialization)."""
    return rng.standard_normal((n_out, n_in)) * 10


HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
INITS = {"zeros": "zeros", "random": "random", "large_random": large_random, "he": "he",
         "xavier": "xavier"}
INIT_TITLES = {"zeros": "zeros", "random": "random x 0.01", "large_random": "random x 10",
               "he": "He", "xavier": "Xavier"}
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
SCHEDULES = ("constant", "inverse_time", "exponential", "staircase")
STAIRCASE_INTERVAL = 1000

DEFAULTS = {
    # data
    "dataset": "flower", "points": 400, "dev_points": 100, "noise": 0.2, "classes": 2,
    "data_seed": 1, "csv": None,
    # network
    "hidden": [4], "activation": ["tanh"], "init": "xavier", "seed": 0, "batch_norm": False,
    # regularization
    "l2": 0.0, "keep_prob": 1.0,
    # optimization
    "optimizer": "gd", "beta1": 0.9, "beta2": 0.999, "learning_rate": 1.2,
    "lr_schedule": "constant", "decay_rate": 1.0, "batch_size": None, "epochs": 2000,
    "patience": None, "fit_seed": None,
    # draws: the course's np.random.seed (legacy RandomState) for the weights, the flower and
    # the other non-scikit-learn sets, and its mini-batch shuffle
    "course_rng": False,
    # the diagnosis
    "human_error": 0.0,
}


def settings_of(**changes):
    """DEFAULTS with `changes`, checked: the activation given once is repeated per layer;
    SettingsError names the first setting that cannot be used."""
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise SettingsError(unknown[0], f"unknown setting; expected one of {', '.join(DEFAULTS)}")
    settings = {**DEFAULTS, **changes}
    activation = settings["activation"]
    names = [activation] * len(settings["hidden"]) if isinstance(activation, str) else list(
        activation)
    if len(names) == 1 and len(settings["hidden"]) != 1:  # one name for every layer (or none)
        names *= len(settings["hidden"])
    if len(names) != len(settings["hidden"]):
        raise SettingsError("activation", f"one name, or one per hidden layer "
                            f"({len(settings['hidden'])}); got {len(names)}")
    settings["activation"] = names
    if settings["dataset"] != CSV and settings["dataset"] not in DATASETS:
        raise SettingsError("dataset", f"unknown data set {settings['dataset']!r}")
    if settings["dataset"] == CSV and not settings["csv"]:
        raise SettingsError("csv", "the csv data set needs the uploaded points")
    if settings["patience"] is not None and not settings["dev_points"]:
        raise SettingsError("patience", "early stopping watches the dev cost: set dev_points")
    if settings["human_error"] and not settings["dev_points"]:
        raise SettingsError("human_error", "the diagnosis needs a dev set: set dev_points")
    if settings["batch_norm"] and not settings["hidden"]:
        raise SettingsError("batch_norm", "batch norm needs at least one hidden layer")
    if settings["keep_prob"] < 1 and not settings["hidden"]:
        raise SettingsError("keep_prob", "dropout needs at least one hidden layer")
    return settings


def _weights_seed(settings):
    return np.random.RandomState(settings["seed"]) if settings["course_rng"] else settings["seed"]


def network(settings, n_classes):
    """Network([2, *hidden, n_y]): a sigmoid output for two classes, softmax for more."""
    return Network([2, *settings["hidden"], 1 if n_classes == 2 else n_classes],
                   hidden_activation=list(settings["activation"]),
                   output_activation="sigmoid" if n_classes == 2 else "softmax",
                   init=INITS[settings["init"]], seed=_weights_seed(settings),
                   batch_norm=settings["batch_norm"])


def _optimizer(settings):
    name, beta1, beta2 = settings["optimizer"], settings["beta1"], settings["beta2"]
    return {"gd": GradientDescent, "momentum": lambda: Momentum(beta1),
            "rmsprop": lambda: RMSprop(beta2), "adam": lambda: Adam(beta1, beta2)}[name]()


def _schedule(settings):
    rate = settings["decay_rate"]
    return {"constant": lambda: None, "inverse_time": lambda: InverseTimeDecay(rate),
            "exponential": lambda: ExponentialDecay(rate),
            "staircase": lambda: StaircaseDecay(rate, STAIRCASE_INTERVAL)}[
        settings["lr_schedule"]]()


def fit_options(settings):
    """The options of Network.fit for `settings` (without the data and the dev set)."""
    options = {"epochs": settings["epochs"], "learning_rate": settings["learning_rate"],
               "optimizer": _optimizer(settings), "batch_size": settings["batch_size"],
               "shuffle": "course" if settings["course_rng"] else True,
               "l2": settings["l2"], "keep_prob": settings["keep_prob"],
               "seed": settings["seed"] if settings["fit_seed"] is None else
               settings["fit_seed"]}
    schedule = _schedule(settings)
    if schedule is not None:
        options["lr_schedule"] = schedule
    if settings["patience"] is not None:
        options["patience"] = settings["patience"]
    return options


def python_snippet(settings, title="a playground run"):
    """A script that reproduces the run of `settings` with mlpkit and prints its accuracies."""
    n = len(make_data(settings)[2]) if settings["dataset"] == CSV else settings["classes"]
    init = settings["init"]
    init_code = "large_random" if init == "large_random" else repr(init)
    seed_code = (f"np.random.RandomState({settings['seed']})" if settings["course_rng"]
                 else repr(settings["seed"]))
    optimizer = {"gd": "GradientDescent()",
                 "momentum": f"Momentum(beta={settings['beta1']!r})",
                 "rmsprop": f"RMSprop(beta2={settings['beta2']!r})",
                 "adam": f"Adam(beta1={settings['beta1']!r}, beta2={settings['beta2']!r})"}[
        settings["optimizer"]]
    options = fit_options(settings)
    lines = [f"epochs={options['epochs']!r}", f"learning_rate={options['learning_rate']!r}",
             f"optimizer={optimizer}"]
    for key in ("batch_size", "shuffle", "l2", "keep_prob", "seed", "patience"):
        if key in options:
            lines.append(f"{key}={options[key]!r}")
    schedules = {"inverse_time": f"InverseTimeDecay({settings['decay_rate']!r})",
                 "exponential": f"ExponentialDecay({settings['decay_rate']!r})",
                 "staircase": f"StaircaseDecay({settings['decay_rate']!r}, "
                              f"{STAIRCASE_INTERVAL})"}
    if settings["lr_schedule"] in schedules:
        lines.append(f"lr_schedule={schedules[settings['lr_schedule']]}")
    data_settings = {k: settings[k] for k in ("dataset", "points", "dev_points", "noise",
                                              "classes", "data_seed", "course_rng", "csv")}
    has_dev = bool(settings["dev_points"])
    fit_args = ",\n    ".join([*lines, *(["validation_data=dev"] if has_dev else [])])
    output = "sigmoid" if n == 2 else "softmax"
    return f'''"""{title}, reproduced with mlpkit (written by mlpkit playground)."""

import numpy as np

from mlpkit import Network
from mlpkit.apps.presets import large_random, make_data
from mlpkit.optim.optimizers import Adam, GradientDescent, Momentum, RMSprop
from mlpkit.optim.schedules import ExponentialDecay, InverseTimeDecay, StaircaseDecay

# the data set: X (2, m), Y (1, m) of 0/1 for two classes, one-hot (C, m) for more
data = {data_settings!r}
(X, Y), dev, classes = make_data(data)

net = Network({[2, *settings["hidden"], 1 if n == 2 else n]!r},
              hidden_activation={list(settings["activation"])!r},
              output_activation={output!r}, init={init_code}, seed={seed_code},
              batch_norm={settings["batch_norm"]!r})
history = net.fit(
    X, Y,
    {fit_args},
)
print(f"train accuracy {{net.score(X, Y):.4f}}")
{"print(f'dev accuracy {net.score(*dev):.4f}')" if has_dev else ""}
'''.rstrip() + "\n"


# --------------------------------------------------------------------------- the course's runs

COURSE_FLOWER = {"dataset": "flower", "points": 400, "dev_points": 0, "noise": 0.2,
                 "data_seed": 1, "course_rng": True}

PRESETS = {
    "course-planar": {
        "title": "the course's planar run",
        "description": "course 1, week 3: the course's flower (np.random.seed(1)), 4 tanh "
        "units from np.random.seed(2) as N(0, 1) * 0.01, 10000 iterations at rate 1.2: "
        "training accuracy 90.75% (the course's 'Accuracy: 90%')",
        "members": {"4 tanh units": settings_of(
            **COURSE_FLOWER, hidden=[4], activation="tanh", init="random", seed=2,
            learning_rate=1.2, epochs=10000)},
    },
    "course-hidden-sizes": {
        "title": "hidden layer sizes on the flower",
        "description": "course 1, week 3: hidden layers of 1, 2, 3, 4, 5, 20 and 50 tanh units "
        "on mlpkit's flower (seed 1), 5000 iterations at rate 1.2 each",
        "members": {f"{n} hidden units": settings_of(
            dataset="flower", points=400, dev_points=0, noise=0.2, data_seed=1,
            hidden=[n], activation="tanh", init="random", seed=1, learning_rate=1.2,
            epochs=5000) for n in (1, 2, 3, 4, 5, 20, 50)},
    },
    "course-initialization": {
        "title": "zeros vs large random vs He initialization",
        "description": "course 2, week 1: make_circles (300 points, seed 1; dev: 100, seed "
        "2), [2, 10, 5, 1] relu/sigmoid, 15000 gradient-descent iterations at 0.01",
        "members": {title: settings_of(
            dataset="circles", points=300, dev_points=100, noise=0.05, data_seed=1,
            hidden=[10, 5], activation="relu", init=init, seed=0, learning_rate=0.01,
            epochs=15000) for init, title in (("zeros", "zeros"),
                                              ("large_random", "large random (x10)"),
                                              ("he", "He"))},
    },
    "course-regularization": {
        "title": "no regularization vs L2 vs dropout",
        "description": "course 2, week 1, on the example's moons (the course's football data "
        "is not available): 80 points with noise 0.35 (dev: 1000), [2, 64, 64, 1] relu, Adam "
        "at 0.01 for 3000 full-batch epochs; L2 lambda 0.3; dropout keep_prob 0.5",
        "members": {title: settings_of(
            dataset="moons", points=80, dev_points=1000, noise=0.35, data_seed=0,
            hidden=[64, 64], activation="relu", init="he", seed=0, optimizer="adam",
            learning_rate=0.01, epochs=3000, fit_seed=0, **change)
            for title, change in (("no regularization", {}), ("L2, lambda = 0.3", {"l2": 0.3}),
                                  ("dropout, keep_prob = 0.5", {"keep_prob": 0.5}))},
    },
    "course-optimization": {
        "title": "mini-batch gradient descent vs momentum vs Adam",
        "description": "course 2, week 2: the course's moons (np.random.seed(3)), [2, 5, 2, 1] "
        "relu/sigmoid, He init from seed 3, mini-batches of 64 shuffled as the course does "
        "(seed 10), rate 0.0007, 10000 epochs: 79.67% / 79.67% / 94%",
        "members": {title: settings_of(
            dataset="moons", points=300, dev_points=0, noise=0.2, data_seed=3,
            course_rng=True, hidden=[5, 2], activation="relu", init="he", seed=3,
            optimizer=optimizer, learning_rate=0.0007, batch_size=64, epochs=10000,
            fit_seed=10)
            for optimizer, title in (("gd", "mini-batch gradient descent"),
                                     ("momentum", "momentum"), ("adam", "Adam"))},
    },
}
