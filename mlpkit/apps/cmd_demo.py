"""`mlpkit demo`: the course's planar flower and scikit-learn's digits, with plots."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _flower_demo(out):
    """The course's planar flower: logistic regression vs a 4-tanh-unit hidden layer."""
    from ..data.synthetic import make_flower
    from ..nn.network import Network
    from .plots import plot_decision_boundaries

    X, Y = make_flower(400, seed=1)
    X_test, Y_test = make_flower(400, seed=2)
    rows, panels = [], []
    for name, dims, kwargs in (
        ("logistic regression", [2, 1], {}),
        ("4 tanh units", [2, 4, 1], {"hidden_activation": "tanh", "init": "random"}),
    ):
        net = Network(dims, seed=2, **kwargs)
        _, seconds = _timed(lambda net=net: net.fit(X, Y, epochs=10000, learning_rate=1.2))
        rows.append(("flower", name, net.score(X, Y), net.score(X_test, Y_test), seconds))
        panels.append((f"{name} ({rows[-1][2]:.0%} accuracy)", net.predict, X, Y))
    hidden = []
    for n_h in (1, 2, 3, 5, 20, 50):
        net = Network([2, n_h, 1], hidden_activation="tanh", init="random", seed=2)
        net.fit(X, Y, epochs=5000, learning_rate=1.2)
        hidden.append((f"{n_h} tanh units ({net.score(X, Y):.0%})", net.predict, X, Y))
    paths = [plot_decision_boundaries(panels, out / "flower.png", ncols=2),
             plot_decision_boundaries(hidden, out / "flower_hidden_sizes.png", ncols=3)]
    return rows, paths


def _digits_demo(out):
    """scikit-learn's bundled 8x8 digits: a deep softmax network, Adam, mini-batches."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from ..data.preprocessing import flatten_images, one_hot
    from ..nn.network import Network
    from .plots import plot_costs, plot_mislabeled

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    train_img, test_img, train_y, test_y = train_test_split(
        images, digits.target, test_size=0.25, stratify=digits.target, random_state=0
    )
    X, X_test = flatten_images(train_img), flatten_images(test_img)
    Y, Y_test = one_hot(train_y, 10), one_hot(test_y, 10)
    net = Network([64, 64, 32, 10], output_activation="softmax", seed=0)
    history, seconds = _timed(lambda: net.fit(
        X, Y, epochs=60, learning_rate=0.002, batch_size=32, optimizer="adam", seed=0,
        validation_data=(X_test, Y_test)))
    rows = [("digits", "64-64-32-10 relu, softmax", net.score(X, Y), net.score(X_test, Y_test),
             seconds)]
    predicted = net.predict(X_test)[0]
    paths = [
        plot_costs([history.costs, history.val_costs], out / "digits_costs.png",
                   labels=["training", "test"], title="digits: 64-64-32-10 network, Adam",
                   learning_rate=0.002),
        plot_mislabeled(test_img, test_y, predicted, [str(d) for d in range(10)],
                        out / "digits_mislabeled.png"),
    ]
    return rows, paths


def run(args):
    out = Path(args.out)
    start = time.perf_counter()
    flower_rows, flower_paths = _flower_demo(out)
    digits_rows, digits_paths = _digits_demo(out)
    print(f"{'data':<8}{'model':<30}{'train acc':>10}{'test acc':>10}{'seconds':>9}")
    for data, model, train, test, seconds in flower_rows + digits_rows:
        print(f"{data:<8}{model:<30}{train:>10.3f}{test:>10.3f}{seconds:>9.1f}")
    print(f"plots in {out}: " + ", ".join(p.name for p in flower_paths + digits_paths))
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


def add_parser(commands):
    demo = commands.add_parser(
        "demo", help="the course's planar flower and scikit-learn's digits, with plots")
    demo.add_argument("--out", default="mlpkit-demo", metavar="DIR",
                      help="folder for the plots (default: %(default)s)")
    demo.set_defaults(run=run)
