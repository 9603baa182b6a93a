"""Space files (TOML): the documented format, the default space, and clear errors."""

import pytest

from mlpkit.search import Choice, IntUniform, LogUniform, OneMinusLogUniform, Uniform
from mlpkit.search.space_file import (
    SpaceFileError,
    default_space,
    describe_space,
    load_space,
    parse_space,
)
from mlpkit.search.trials import TRIAL_KEYS

EXAMPLE = """
[space]
learning_rate = { log_uniform = [1e-4, 0.1] }
beta1 = { one_minus_log_uniform = [0.9, 0.999] }
keep_prob = { uniform = [0.7, 1.0] }
hidden = { int_uniform = [8, 64] }
layers = { int_uniform = [1, 3] }
hidden_activation = { choice = ["relu", "tanh"] }
optimizer = ["adam", "momentum"]

[fixed]
epochs = 100
batch_size = 64
"""


def test_the_documented_format(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(EXAMPLE)
    space, fixed = load_space(path)
    assert fixed == {"epochs": 100, "batch_size": 64}
    assert list(space) == ["learning_rate", "beta1", "keep_prob", "hidden", "layers",
                           "hidden_activation", "optimizer"]
    lr = space["learning_rate"]
    assert isinstance(lr, LogUniform) and (lr.lo, lr.hi) == pytest.approx((-4, -1))
    beta1 = space["beta1"]
    assert isinstance(beta1, OneMinusLogUniform)
    assert (beta1.lo, beta1.hi) == pytest.approx((-3, -1))  # 1 - beta in [0.001, 0.1]
    assert beta1.bounds == pytest.approx((0.9, 0.999))
    assert isinstance(space["keep_prob"], Uniform) and space["keep_prob"].bounds == (0.7, 1.0)
    assert isinstance(space["hidden"], IntUniform) and space["hidden"].bounds == (8, 64)
    assert space["layers"].bounds == (1, 3)
    assert isinstance(space["optimizer"], Choice)
    assert space["optimizer"].options == ["adam", "momentum"]
    assert space["hidden_activation"].options == ["relu", "tanh"]
    described = describe_space(space)
    assert described["learning_rate"] == {"log_uniform": pytest.approx([1e-4, 0.1])}
    assert described["beta1"] == {"one_minus_log_uniform": pytest.approx([0.9, 0.999])}
    assert described["hidden"] == {"int_uniform": [8, 64]}
    assert described["optimizer"] == {"choice": ["adam", "momentum"]}


def test_the_default_space_is_the_documented_one():
    """The README: learning_rate [1e-4, 0.1], l2 [1e-4, 1], beta1 [0.8, 0.999] (all log
    scales), hidden 8-64, layers 1-3; Adam, 100 epochs, mini-batches of 64, He init."""
    space, fixed = default_space()
    assert list(space) == ["learning_rate", "l2", "beta1", "hidden", "layers"]
    assert [type(dist) for dist in space.values()] == [
        LogUniform, LogUniform, OneMinusLogUniform, IntUniform, IntUniform]
    bounds = {name: dist.bounds for name, dist in space.items()}
    assert bounds == {"learning_rate": pytest.approx((1e-4, 0.1)), "l2": pytest.approx((1e-4, 1)),
                      "beta1": pytest.approx((0.8, 0.999)), "hidden": (8, 64), "layers": (1, 3)}
    assert fixed == {"optimizer": "adam", "epochs": 100, "batch_size": 64, "init": "he"}
    assert set(space) | set(fixed) <= set(TRIAL_KEYS)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[space]\nlearnin_rate = { log_uniform = [1e-4, 0.1] }",
         "unknown hyperparameter 'learnin_rate' in [space]; expected one of hidden, layers"),
        ("[space]\nlearning_rate = { log_uniform = [0.1, 0.1] }",
         "space.learning_rate: empty range [0.1, 0.1]; expected low < high"),
        ("[space]\nlearning_rate = { log_uniform = [0.1, 0.001] }",
         "space.learning_rate: empty range [0.1, 0.001]"),
        ("[space]\nhidden = { int_uniform = [9, 4] }",
         "space.hidden: empty range [9, 4]; expected low <= high"),
        ("[space]\nhidden_activation = { choice = [] }",
         "space.hidden_activation: empty choice"),
        ("[space]\nhidden_activation = []", "space.hidden_activation: empty choice"),
        ("[space]\nlearning_rate = { log_normal = [1, 2] }",
         "space.learning_rate: expected one of { log_uniform = [...] |"),
        ("[space]\nlearning_rate = { log_uniform = [0.0, 0.1] }",
         "space.learning_rate: learning_rate must be a finite number > 0; got 0.0"),
        ("[space]\nkeep_prob = { uniform = [0.5, 1.5] }",
         "keep_prob must be a finite number > 0 and <= 1; got 1.5"),
        ("[space]\nbeta1 = { one_minus_log_uniform = [0.9, 1.0] }",
         "beta1 must be a finite number >= 0 and < 1; got 1.0"),
        ("[space]\nhidden = { log_uniform = [8, 64] }",
         "space.hidden: hidden takes whole numbers; use int_uniform or choice"),
        ("[space]\nhidden = { int_uniform = [0, 64] }",
         "space.hidden: hidden must be an integer >= 1; got 0"),
        ("[space]\nhidden = { int_uniform = [1.5, 64] }",
         "space.hidden: int_uniform's low must be an integer; got 1.5"),
        ("[space]\noptimizer = { uniform = [0, 1] }",
         "space.optimizer: optimizer takes options; use choice = [...], not uniform"),
        ("[space]\nlearning_rate = { log_uniform = [1e-4] }",
         "log_uniform takes a range [low, high] of two numbers"),
        ("[space]\nl2 = { log_uniform = [1e-4, 1.0] }\n[fixed]\nl2 = 0.1",
         "['l2'] appear in both [space] and [fixed]"),
        ("[space]\nl2 = { log_uniform = [1e-4, 1.0] }\n[fixed]\nepochs = 0",
         "fixed.epochs: epochs must be an integer >= 1; got 0"),
        ("[space]\nl2 = { log_uniform = [1e-4, 1.0] }\n[fixed]\nepoch = 10",
         "unknown hyperparameter 'epoch' in [fixed]"),
        ("[fixed]\nepochs = 10", "needs a [space] table with at least one hyperparameter"),
        ("[space]\n[searh]\nx = 1", "unknown table(s) ['searh']"),
        ("[space\nl2 = 1", "not valid TOML"),
    ],
)
def test_bad_space_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpaceFileError) as info:
        load_space(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path))


def test_missing_space_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such space file"):
        load_space(tmp_path / "nope.toml")


def test_choice_options_and_layer_lists():
    space, _ = parse_space({"space": {"hidden": {"choice": [[32, 16], [64]]},
                                      "batch_norm": [True, False]}})
    assert space["hidden"].options == [[32, 16], [64]]
    with pytest.raises(SpaceFileError, match="batch_norm takes true or false"):
        parse_space({"space": {"batch_norm": ["yes"]}})
    with pytest.raises(SpaceFileError, match="hidden must be an integer >= 1; got 0.5"):
        parse_space({"space": {"hidden": [[32, 0.5]]}})
