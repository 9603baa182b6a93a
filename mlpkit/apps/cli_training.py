"""Train this model on this data with these options, written once for `mlpkit train`,
`mlpkit diagnose` (its learning curve) and the playground.

A run's options are a dict with the keys of RUN_OPTIONS (recorded in the model file, so that
`--resume` and `diagnose` use them again); `build_model` makes the classifier they describe,
`fit_model` trains it on prepared data (see cli_data.prepare), `diagnosis` measures bias and
variance at the end, and `learning_curve` retrains the same options on growing shares of the
training set.
"""

from __future__ import annotations

import numpy as np

# Defaults of `mlpkit train`, measured on the course's cat data (see README, "Command line").
HIDDEN = (20, 7, 5)
EPOCHS = 1000
LEARNING_RATE = 0.0075
OPTIMIZER = "gd"
BATCH_SIZE = 64
INIT = "xavier"

# the options that define a training run, recorded in the model file for --resume
RUN_OPTIONS = {
    "data": None, "dev": None, "test": None, "hidden": HIDDEN, "epochs": EPOCHS,
    "learning_rate": LEARNING_RATE, "optimizer": OPTIMIZER, "batch_size": BATCH_SIZE,
    "l2": 0.0, "dropout": 0.0, "batch_norm": False, "image_size": None,
    "validation_split": 0.0, "seed": None, "strict": False, "stream": None,
    "human_error": 0.0, "patience": None, "lr_schedule": None, "decay_rate": None,
    "augment": None, "init": INIT, "beta1": None, "beta2": None,
}

# which optimizer takes which beta, under the library's names: momentum's beta is beta1
BETAS = {"momentum": {"beta1": "beta"}, "nesterov": {"beta1": "beta"},
         "rmsprop": {"beta2": "beta2"}, "adam": {"beta1": "beta1", "beta2": "beta2"}}

# the shares of the training set a learning curve is drawn at
CURVE_FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)


def build_model(options, classes, size, placement=None):
    """A new ImageClassifier for `classes` of size x size images as the options describe, on
    the device of `placement` (cli_options.placement; None: NumPy on the host)."""
    from .image_classifier import ImageClassifier

    return ImageClassifier.build(classes, size, options["hidden"], init=options["init"],
                                 seed=options["seed"], batch_norm=options["batch_norm"],
                                 **(placement or {}))


def fit_options(options, validation_data):
    """Network.fit's keyword arguments for the run's options, monitoring `validation_data`."""
    from ..optim.optimizers import OPTIMIZERS
    from ..optim.schedules import SCHEDULES

    betas = {BETAS[options["optimizer"]][k]: options[k] for k in ("beta1", "beta2")
             if options.get(k) is not None}
    optimizer = (OPTIMIZERS[options["optimizer"]](**betas) if betas else options["optimizer"])
    schedule = options.get("lr_schedule")
    if schedule is not None and options.get("decay_rate") is not None:
        schedule = SCHEDULES[schedule](options["decay_rate"])
    return dict(
        epochs=options["epochs"], learning_rate=options["learning_rate"],
        batch_size=options["batch_size"], optimizer=optimizer, lr_schedule=schedule,
        l2=options["l2"], keep_prob=1.0 - options["dropout"], validation_data=validation_data,
        patience=options.get("patience") if validation_data is not None else None,
        seed=options["seed"],
    )


def fit_model(model, train, options, *, validation_data=None, on_batch=None, done=0,
              **fit_kwargs):
    """Train model.network on `train` (a source, or (X, Y) in memory) with the run's options;
    returns the History. --augment flip flips each example left-right at random each epoch,
    batch by batch; on_batch(size) is called after each mini-batch the loop takes. done: the
    epochs already done (a resumed run), where the augmentation's draws go on from. The model
    trains where it is (`ImageClassifier.to`): batches are flipped on the host, then moved."""
    from ..training.validation import is_source

    options_ = fit_options(options, validation_data)
    options_.update(fit_kwargs)
    X, Y = (train, None) if is_source(train) else train
    if options.get("augment") or on_batch is not None:
        if not is_source(X):
            from ..training.batches import ArraySource

            X, Y = ArraySource(X, Y), None
        flip = None
        if options.get("augment") == "flip":
            flip = (model.image_size, options["seed"], done)
        X = TrainingSource(X, on_batch, flip)
    return model.fit(X, Y, **options_)


class TrainingSource:
    """A source as the loop takes it, with each example flipped left-right at random each
    epoch (flip=(image size, seed, first epoch): the draws of epoch e come from the generator
    seeded by (seed, e), so a resumed run draws what the uninterrupted one did), and
    on_batch(size) called after each mini-batch. Batches are changed on their way to the
    loop, never the data."""

    def __init__(self, source, on_batch=None, flip=None):
        self.source, self.on_batch = source, on_batch
        self.n_examples, self.n_features = source.n_examples, source.n_features
        self.dtype, self.n_outputs = source.dtype, getattr(source, "n_outputs", None)
        self.flip = flip
        self.epoch = None if flip is None else flip[2]

    def full_batch(self):
        batch = self._flipped(self.source.full_batch(), self._rng())
        if self.on_batch is not None:
            self.on_batch(batch.size)
        return batch

    def batches(self, order, batch_size):
        from ..training.batches import closing_batches

        rng = self._rng()
        with closing_batches(self.source, order, batch_size) as batches:
            for batch in batches:
                yield self._flipped(batch, rng)
                if self.on_batch is not None:
                    self.on_batch(batch.size)

    def _rng(self):
        """The generator of this epoch's flips (one pass = one epoch of training)."""
        if self.flip is None:
            return None
        rng = np.random.default_rng([self.flip[1] or 0, self.epoch])
        self.epoch += 1
        return rng

    def _flipped(self, batch, rng):
        """The batch with each example flipped left-right with probability 1/2: a new X."""
        if rng is None:
            return batch
        import dataclasses

        flip = rng.random(batch.size) < 0.5
        s = self.flip[0]
        rows = np.array(batch.X.T)  # (b, n_x), a copy: the batch may be the data set itself
        images = rows.reshape(batch.size, s, s, -1)
        images[flip] = images[flip, :, ::-1]
        return dataclasses.replace(batch, X=rows.T)


def accuracy(net, part):
    """The accuracy of `net` on a source or (X, Y) in memory: a full pass in prediction mode."""
    from ..training.validation import is_source

    if is_source(part):
        from ..data.streams import evaluate_source

        return evaluate_source(net, part)[1]
    return net.score(*part)


def diagnosis(model, train, dev, options, *, test=None, argv=None, human_error=None):
    """The bias/variance Diagnosis of the trained `model` on `train` and `dev` (and `test`,
    for the dev-overfit gap only), each a source or (X, Y): errors from full passes in
    prediction mode; the suggestions as `mlpkit` commands from the run's arguments `argv`.
    options None: the run is not known (its suggestions name the options, not their values).
    human_error None: the run's."""
    from ..training.diagnosis import Diagnosis

    if human_error is None:
        human_error = (options or {}).get("human_error") or 0.0
    found = Diagnosis.of(model.network, train, dev, human_error, test=test)
    return found.with_run(options, argv)


def learning_curve(options, classes, size, train, dev, fractions=CURVE_FRACTIONS,
                   on_fit=None, placement=None):
    """(training-set sizes, training errors, dev errors): the run's options retrained from
    scratch on stratified shares `fractions` of `train` ((X, Y) in memory), each scored on
    itself and on `dev` in prediction mode. on_fit(size) is called before each fit.
    placement: the device of each fit (see build_model)."""
    from sklearn.model_selection import train_test_split

    X, Y = train
    labels = Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0]
    sizes, train_errors, dev_errors = [], [], []
    for fraction in fractions:
        rows = np.arange(X.shape[1])
        if fraction < 1:
            rows, _ = train_test_split(rows, train_size=fraction, stratify=labels,
                                       random_state=options["seed"])
            rows = np.sort(rows)
        part = (np.asarray(X[:, rows], order="F"), Y[:, rows])
        if on_fit is not None:
            on_fit(rows.size)
        model = build_model(options, classes, size, placement)
        monitored = dev if options.get("patience") else None
        fit_model(model, part, options, validation_data=monitored)
        sizes.append(rows.size)
        train_errors.append(1 - accuracy(model.network, part))
        dev_errors.append(1 - accuracy(model.network, dev))
    return np.array(sizes), np.array(train_errors), np.array(dev_errors)
