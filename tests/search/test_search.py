"""Random hyperparameter search: sampling scales, coarse to fine, parallel trials, the table."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_iris, make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ParameterSampler, RandomizedSearchCV

from mlpkit.optim.optimizers import Adam, Momentum
from mlpkit.search import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    SearchResults,
    Uniform,
    build_network,
    coarse_to_fine,
    make_optimizer,
    random_search,
    run_trial,
    run_trials,
    sample_trials,
    train_network,
    zoom_space,
)

BEST_RATE_EXPONENT, BEST_HIDDEN = -2.5, 12


def bowl(params, X, Y, X_dev, Y_dev):
    """A stand-in for training: the dev score peaks at learning_rate 10^-2.5 and 12 units."""
    r = math.log10(params["learning_rate"])
    return -((r - BEST_RATE_EXPONENT) ** 2) - ((params["hidden"] - BEST_HIDDEN) / 10) ** 2


def blas_threads_seen(params, X, Y, X_dev, Y_dev):
    from threadpoolctl import threadpool_info

    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return {"dev_score": 0.0, "blas_threads": max(blas)}


def diverges_above_one(params, X, Y, X_dev, Y_dev):
    if params["learning_rate"] > 1:
        raise FloatingPointError("the cost became inf")
    return params["learning_rate"]


NO_DATA = (None, None, None, None)


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(n_samples=200, noise=0.25, random_state=0)
    X_dev, y_dev = make_moons(n_samples=100, noise=0.25, random_state=1)
    return X.T, y.reshape(1, -1), X_dev.T, y_dev.reshape(1, -1)


# ------------------------------------------------------------------------- distributions
def test_log_uniform_is_uniform_in_the_exponent():
    values = LogUniform(-4, 0).rvs(size=20000, random_state=0)
    assert values.min() >= 1e-4 and values.max() <= 1
    exponents = np.log10(values)
    assert stats.kstest(exponents, "uniform", args=(-4, 4)).pvalue > 0.001
    per_decade = np.histogram(exponents, bins=[-4, -3, -2, -1, 0])[0] / values.size
    np.testing.assert_allclose(per_decade, 0.25, atol=0.02)  # a linear scale: 90% in [0.1, 1]
    assert LogUniform(-4, 0).bounds == (1e-4, 1.0)


def test_one_minus_log_uniform_samples_betas():
    betas = OneMinusLogUniform(-3, -1).rvs(size=20000, random_state=1)
    assert betas.min() >= 0.9 and betas.max() <= 0.999
    assert stats.kstest(np.log10(1 - betas), "uniform", args=(-3, 2)).pvalue > 0.001
    # as many betas averaging over 10..100 values as over 100..1000
    assert np.mean(betas < 0.99) == pytest.approx(0.5, abs=0.02)
    assert OneMinusLogUniform(-3, -1).bounds == pytest.approx((0.9, 0.999))


def test_int_uniform_and_choice_cover_every_value():
    values = IntUniform(3, 6).rvs(size=8000, random_state=2)
    assert set(values.tolist()) == {3, 4, 5, 6}
    np.testing.assert_allclose(np.bincount(values)[3:] / values.size, 0.25, atol=0.02)
    one = IntUniform(3, 6).rvs(random_state=0)
    assert isinstance(one, int) and 3 <= one <= 6
    picks = Choice(["relu", "tanh", [20, 10]]).rvs(size=6000, random_state=3)
    counts = [sum(1 for p in picks if p == option) for option in ("relu", "tanh", [20, 10])]
    np.testing.assert_allclose(np.array(counts) / 6000, 1 / 3, atol=0.03)
    assert Choice(["relu", "tanh"]).rvs(random_state=0) in ("relu", "tanh")
    uniform = Uniform(0.5, 1.0).rvs(size=1000, random_state=4)
    assert uniform.min() >= 0.5 and uniform.max() <= 1.0


@pytest.mark.parametrize(
    "dist", [LogUniform(-4, -1), OneMinusLogUniform(-3, -1), Uniform(0, 1), IntUniform(1, 99),
             Choice(list("abcdefgh"))],
    ids=repr,
)
def test_rvs_takes_any_random_state(dist):
    for random_state in (7, np.random.RandomState(7), np.random.default_rng(7)):
        first = dist.rvs(size=5, random_state=random_state)
        assert len(first) == 5
    assert list(dist.rvs(size=5, random_state=7)) == list(dist.rvs(size=5, random_state=7))
    assert list(dist.rvs(size=20, random_state=7)) != list(dist.rvs(size=20, random_state=8))


def test_distributions_draw_with_scipy_stats_and_trials_with_parameter_sampler():
    def draws(dist):
        return list(dist.rvs(size=6, random_state=np.random.RandomState(5)))

    assert draws(LogUniform(-4, -1)) == draws(stats.loguniform(1e-4, 1e-1))
    assert draws(OneMinusLogUniform(-3, -1)) == [
        1 - x for x in draws(stats.loguniform(1e-3, 1e-1))]
    assert draws(Uniform(0.5, 1.0)) == draws(stats.uniform(0.5, 0.5))
    assert draws(IntUniform(3, 9)) == draws(stats.randint(3, 10))
    assert draws(Choice(list("abc"))) == ["abc"[k] for k in draws(stats.randint(0, 3))]
    space = {"learning_rate": LogUniform(-4, -1), "hidden": IntUniform(2, 9)}
    seq = np.random.SeedSequence(3).spawn(2)[0]
    sampler = ParameterSampler(space, 4, random_state=np.random.RandomState(np.random.MT19937(
        seq)))
    assert [{k: t[k] for k in space} for t in sample_trials(space, 4, seed=3)] == list(sampler)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LogUniform(-1, -1), "lo < hi"),
        (lambda: LogUniform(0, -4), "lo < hi"),
        (lambda: LogUniform(-4, math.inf), "finite"),
        (lambda: OneMinusLogUniform(-3, 1), "hi <= 0"),
        (lambda: Uniform("a", 1), "finite number"),
        (lambda: IntUniform(5, 2), "lo <= hi"),
        (lambda: IntUniform(1.5, 3), "integer"),
        (lambda: Choice([]), "at least one option"),
        (lambda: Choice("relu"), "list of options"),
    ],
)
def test_bad_distributions(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_distributions_work_in_scikit_learns_parameter_sampler():
    space = {
        "learning_rate": LogUniform(-4, -1),
        "beta1": OneMinusLogUniform(-3, -1),
        "hidden": IntUniform(5, 50),
        "keep_prob": Uniform(0.5, 1.0),
        "hidden_activation": Choice(["relu", "tanh"]),
    }
    draws = list(ParameterSampler(space, n_iter=40, random_state=0))
    assert draws == list(ParameterSampler(space, n_iter=40, random_state=0))
    for params in draws:
        assert 1e-4 <= params["learning_rate"] <= 0.1
        assert 0.9 <= params["beta1"] <= 0.999
        assert 5 <= params["hidden"] <= 50 and isinstance(params["hidden"], int)
        assert 0.5 <= params["keep_prob"] <= 1
        assert params["hidden_activation"] in ("relu", "tanh")
    assert len({p["learning_rate"] for p in draws}) == 40


def test_distributions_work_in_randomized_search_cv():
    X, y = load_iris(return_X_y=True)
    search = RandomizedSearchCV(
        LogisticRegression(max_iter=500), {"C": LogUniform(-2, 2)}, n_iter=4, cv=3, random_state=0
    ).fit(X, y)
    assert 0.01 <= search.best_params_["C"] <= 100
    assert len(set(search.cv_results_["param_C"])) == 4


# ------------------------------------------------------------------------- zoom
def test_zoom_narrows_each_distribution_to_the_best_values():
    zoomed = LogUniform(-4, 0).zoom([1e-3, 1e-2], margin=0.1)
    assert (zoomed.lo, zoomed.hi) == pytest.approx((-3.4, -1.6))
    zoomed = OneMinusLogUniform(-3, -1).zoom([0.99], margin=0.1)
    assert (zoomed.lo, zoomed.hi) == pytest.approx((-2.2, -1.8))
    zoomed = Uniform(0, 1).zoom([0.05, 0.3], margin=0.1)
    assert (zoomed.lo, zoomed.hi) == pytest.approx((0.0, 0.4))  # kept inside the old range
    zoomed = IntUniform(1, 11).zoom([4, 6], margin=0.1)
    assert (zoomed.lo, zoomed.hi) == (3, 7)
    assert Choice(["a", "b", "c"]).zoom(["c", "a", "c"]).options == ["a", "c"]
    with pytest.raises(ValueError, match="margin"):
        LogUniform(-4, 0).zoom([1e-3], margin=0)



@pytest.mark.parametrize(
    "dist, values",
    [(Uniform(0, 1), [0.2, 0.4]), (LogUniform(-4, 0), [1e-3, 1e-2]),
     (OneMinusLogUniform(-3, -1), [0.95, 0.99])],
    ids=repr,
)
def test_zoom_keeps_the_distribution_and_its_scale(dist, values):
    zoomed = dist.zoom(values, margin=0.1)
    assert type(zoomed) is type(dist) and repr(zoomed).startswith(repr(dist).split("(")[0] + "(")
    lo, hi = zoomed.bounds
    assert dist.bounds[0] <= lo < min(values) and max(values) < hi <= dist.bounds[1]

def test_zoom_space_uses_the_best_trials_only():
    space = {"learning_rate": LogUniform(-5, 0), "hidden": IntUniform(1, 50)}
    rows = [
        {"learning_rate": 1e-3, "hidden": 10, "dev_score": 0.9},
        {"learning_rate": 1e-2, "hidden": 20, "dev_score": 0.8},
        {"learning_rate": 1e-5, "hidden": 50, "dev_score": 0.1},
        {"learning_rate": 1.0, "hidden": 1, "dev_score": math.nan},
    ]
    zoomed = zoom_space(space, rows, zoom=0.5, margin=0.1)
    assert (zoomed["learning_rate"].lo, zoomed["learning_rate"].hi) == pytest.approx((-3.5, -1.5))
    assert zoomed["hidden"].bounds == (5, 25)  # [10 - 4.9, 20 + 4.9], rounded outward
    with pytest.raises(ValueError, match="no trial has a finite dev score"):
        zoom_space(space, rows[3:])
    with pytest.raises(ValueError, match=r"zoom \(the fraction of best trials kept\) must be "
                                         r"a finite number > 0 and <= 1; got 0"):
        zoom_space(space, rows, zoom=0)


def test_coarse_to_fine_narrows_toward_the_best_region():
    space = {"learning_rate": LogUniform(-5, 0), "hidden": IntUniform(1, 60)}
    results = coarse_to_fine(bowl, space, 20, *NO_DATA, rounds=3, zoom=0.2, seed=0,
                             progress=False)
    assert len(results) == 60 and len(results.spaces) == 3
    widths = [s["learning_rate"].hi - s["learning_rate"].lo for s in results.spaces]
    assert widths[0] == 5 and widths[1] < widths[0] and widths[2] < widths[1]
    for s in results.spaces:
        assert s["learning_rate"].lo <= BEST_RATE_EXPONENT <= s["learning_rate"].hi
        assert s["hidden"].lo <= BEST_HIDDEN <= s["hidden"].hi
    median = [np.median([r["dev_score"] for r in results if r["round"] == k]) for k in (1, 2, 3)]
    assert median[0] < median[1] < median[2]
    assert abs(math.log10(results.best["learning_rate"]) - BEST_RATE_EXPONENT) < 0.3
    assert set(results.best_params()) == {"learning_rate", "hidden", "seed"}


# ------------------------------------------------------------------------- trials and results
def test_sample_trials_is_reproducible_and_seeds_each_trial():
    space = {"learning_rate": LogUniform(-4, -1), "hidden": IntUniform(2, 9)}
    trials = sample_trials(space, 5, seed=3)
    assert trials == sample_trials(space, 5, seed=3)
    assert trials != sample_trials(space, 5, seed=4)
    assert all(list(t) == ["learning_rate", "hidden", "seed"] for t in trials)
    assert len({t["seed"] for t in trials}) == 5
    assert "seed" not in sample_trials(space, 2, seed=3, add_seed=False)[0]


def test_results_are_sorted_by_dev_score_and_printed_as_a_table():
    space = {"learning_rate": LogUniform(-5, 1), "hidden": IntUniform(1, 60)}
    results = random_search(bowl, space, 12, *NO_DATA, seed=1, progress=False)
    scores = [row["dev_score"] for row in results]
    assert scores == sorted(scores, reverse=True)
    assert isinstance(results, list) and results.best is results[0]
    table = results.format_table()
    lines = table.splitlines()
    assert lines[0].split() == ["rank", "learning_rate", "hidden", "seed", "dev_score", "seconds"]
    assert len(lines) == 13
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in range(1, 13)]
    assert lines[1].split()[2] == str(results[0]["hidden"])
    assert str(results) == table
    assert results.format_table(max_rows=3).splitlines()[-1] == "... 9 more"



def test_best_params_of_results_built_from_rows_alone():
    # no spaces: the sampled keys are the best row's keys other than the metrics
    metrics = {"train_score": 0.6, "dev_cost": 0.7, "seconds": 1.0, "error": None}
    rows = [{"learning_rate": 0.2, "seed": 4, "dev_score": 0.4, **metrics},
            {"learning_rate": 0.1, "seed": 3, "dev_score": 0.5, **metrics}]
    results = SearchResults(rows, fixed={"epochs": 5})
    assert results.best_params() == {"epochs": 5, "learning_rate": 0.1, "seed": 3}

def test_a_diverging_trial_is_recorded_and_ranked_last():
    results = random_search(diverges_above_one, {"learning_rate": LogUniform(-1, 1)}, 10,
                            *NO_DATA, seed=0, progress=False)
    failed = [row for row in results if row["error"]]
    assert failed and all(math.isnan(row["dev_score"]) for row in failed)
    assert results[-len(failed):] == failed
    assert "error" in results.format_table().splitlines()[0]
    assert "the cost became inf" in failed[0]["error"]


def test_run_trial_caps_blas_threads():
    row = run_trial({"x": 1}, NO_DATA, blas_threads_seen, blas_threads=1)
    assert row["blas_threads"] == 1 and row["x"] == 1 and row["error"] is None
    from joblib import cpu_count

    rows = run_trials([{"x": 1}, {"x": 2}], NO_DATA, blas_threads_seen, n_jobs=2, progress=False)
    assert [r["blas_threads"] for r in rows] == [max(1, cpu_count() // 2)] * 2
    assert [r["x"] for r in rows] == [1, 2]


def test_two_workers_give_the_same_results_as_one(moons):
    space = {"learning_rate": LogUniform(-3, -1), "hidden": IntUniform(2, 8),
             "beta1": OneMinusLogUniform(-2, -1)}
    fixed = {"epochs": 30, "optimizer": "adam", "batch_size": 64}
    one = random_search(fixed, space, 6, *moons, n_jobs=1, seed=5, progress=False)
    two = random_search(fixed, space, 6, *moons, n_jobs=2, seed=5, progress=False)

    def without_time(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert without_time(one) == without_time(two)
    assert len({row["dev_score"] for row in one}) > 1
    assert one.fixed == fixed
    assert {**fixed, "learning_rate": one[0]["learning_rate"]}.items() <= one.best_params().items()


def test_progress_bar(moons, capsys):
    random_search(bowl, {"learning_rate": LogUniform(-3, -1), "hidden": IntUniform(2, 8)}, 3,
                  *moons, seed=0, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_train_network_builds_the_network_the_params_describe(moons):
    X, Y, X_dev, Y_dev = moons
    params = {"hidden": 6, "layers": 2, "epochs": 200, "learning_rate": 0.01,
              "optimizer": "adam", "batch_size": 32, "seed": 0}
    out = train_network(params, X, Y, X_dev, Y_dev)
    # measured: dev 0.95, train 0.965, dev cost 0.116; a logistic regression scores 0.83 on
    # both, so the network must have learned the moons' curve
    assert out["dev_score"] >= 0.92 and out["train_score"] >= 0.93
    assert 0 < out["dev_cost"] < 0.2
    again = train_network(params, X, Y.ravel(), X_dev, Y_dev.ravel())
    assert again == out  # a trial's params reproduce it
    net, fit_options = build_network(params, X, Y)
    assert net.layer_dims == [2, 6, 6, 1] and net.output_activation == "sigmoid"
    assert isinstance(fit_options.pop("optimizer"), Adam)
    assert fit_options == {"epochs": 200, "learning_rate": 0.01, "batch_size": 32, "seed": 0}
    net.fit(X, Y, optimizer="adam", **fit_options)
    assert net.score(X_dev, Y_dev) == out["dev_score"]
    with pytest.raises(ValueError, match="unknown trial parameter"):
        train_network({"hiden": 5}, X, Y, X_dev, Y_dev)
    with pytest.raises(ValueError, match="'layers' = 3 but 'hidden' lists 2"):
        train_network({"hidden": [4, 3], "layers": 3}, X, Y, X_dev, Y_dev)


def test_make_optimizer_uses_the_sampled_betas():
    adam = make_optimizer({"optimizer": "adam", "beta1": 0.95, "beta2": 0.99, "beta": 0.5})
    assert isinstance(adam, Adam) and (adam.beta1, adam.beta2) == (0.95, 0.99)
    momentum = make_optimizer({"optimizer": "momentum", "beta": 0.8, "beta1": 0.95})
    assert isinstance(momentum, Momentum) and momentum.beta == 0.8
    shared = Adam()
    assert make_optimizer({"optimizer": shared}) is not shared
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer({"optimizer": "adagrad"})


def test_search_input_errors():
    with pytest.raises(ValueError, match="non-empty dict"):
        random_search(bowl, {}, 3, *NO_DATA, progress=False)
    with pytest.raises(ValueError, match="must be a distribution"):
        random_search(bowl, {"learning_rate": 0.01}, 3, *NO_DATA, progress=False)
    with pytest.raises(ValueError, match="n_trials must be an integer >= 1"):
        random_search(bowl, {"learning_rate": LogUniform(-3, -1)}, 0, *NO_DATA, progress=False)
    with pytest.raises(ValueError, match="n_jobs"):
        random_search(bowl, {"learning_rate": [0.1]}, 2, *NO_DATA, n_jobs=0, progress=False)
    with pytest.raises(TypeError, match="train_fn_or_spec"):
        random_search(42, {"learning_rate": [0.1]}, 2, *NO_DATA, progress=False)
    assert SearchResults([]).format_table().split() == ["rank"]
