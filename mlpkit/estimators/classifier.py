"""`MLPClassifier`: scikit-learn's MLPClassifier on mlpkit's engine (see `base` for what it shares
with the regressor and where it differs from scikit-learn)."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels

from ..nn.backend import backend_of, host_dtype, on_host, to_numpy
from .base import BaseMLP, docstring
from .persistence import to_json


def _partial_fit_available(estimator):
    estimator._check_solver()
    if isinstance(estimator.class_weight, str) and estimator.class_weight == "balanced":
        raise AttributeError(
            "partial_fit is not available with class_weight='balanced': the class frequencies "
            "of one call's data are not those of the data set. Use compute_class_weight("
            "'balanced', classes=classes, y=y) on (a large enough sample of) the training "
            "targets and pass the result as class_weight."
        )
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier on mlpkit's engine: scikit-learn's MLPClassifier
    parameters and attributes (see sklearn.neural_network.MLPClassifier), plus class_weight,
    activation='leaky_relu', solver='rmsprop', the notes' learning-rate schedules, dropout,
    batch_norm and init.

    Output: one sigmoid unit for two classes, softmax for more, one sigmoid per label for a
    multilabel indicator y; the cost is the cross-entropy, J = -(1/m) sum y log a. X may be
    dense or scipy.sparse (CSR / CSC), or, under scikit-learn's array_api_dispatch, an array
    of another library (a PyTorch tensor, a CuPy array), which training and prediction follow.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from mlpkit import MLPClassifier
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=500,
    ...                     random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    __doc__ = docstring(__doc__, ("", """class_weight : dict, list of dict, 'balanced' or None, \
default=None
    Weights multiplied into sample_weight by the examples' classes: a dict {class: weight} (a
    list of dicts, one per label, for multi-label y) or 'balanced', n / (n_classes * count),
    counted with the sample weights."""), """classes_ : ndarray of shape (n_classes,)
    The class labels.""")

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, list, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        dropout=0.0,
        batch_norm=False,
        init="sklearn",
    ):
        self._set_params_from({k: v for k, v in locals().items() if k != "self"})

    def _out_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        """X as float32/float64 (n_samples, n_features), dense or sparse; y binarized to
        (n_samples, n_outputs) in X's dtype, with scikit-learn's rules for classes_ across warm
        starts and partial_fit."""
        X, y = self._validate_X_y(X, y, reset)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, self._label_binarizer.transform(y).astype(host_dtype(X.dtype))

    def _sample_weight(self, sample_weight, X, Y):
        """sample_weight times the class weights of the examples' labels."""
        weights = super()._sample_weight(sample_weight, X, Y)
        if self.class_weight is None:
            return weights
        return self._class_weights(Y, weights).astype(Y.dtype)

    def _class_weights(self, Y, weights):
        """Each example's class weight times its sample weight, as scikit-learn's
        compute_sample_weight gives it, except that 'balanced' counts the classes by their
        sample weights (compute_class_weight's sample_weight): n / (n_classes * count(class))
        with weighted n and counts, so a zero weight is a dropped example and an integer weight
        repeated ones. A dict weighs classes_ (0 and 1 per label), whichever of them this
        call's y holds (a partial_fit batch may lack some). One output per label for
        multi-label y (a list of dicts, or 'balanced')."""
        multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
        targets = Y.astype(np.int64) if multilabel else self._decode(Y).reshape(-1, 1)
        class_weight = self.class_weight
        if multilabel and not (isinstance(class_weight, str) or (
                isinstance(class_weight, list) and len(class_weight) == Y.shape[1])):
            raise ValueError(
                "For multi-output, class_weight should be a list of dicts, or the string "
                f"'balanced', with one element per output ({Y.shape[1]}); got {class_weight!r}"
            )
        total = np.ones(Y.shape[0]) if weights is None else weights.astype(np.float64)
        for k in range(targets.shape[1]):
            y_k = targets[:, k]
            weight_k = class_weight if isinstance(class_weight, (str, dict)) else class_weight[k]
            if isinstance(weight_k, str):  # 'balanced' counts the classes present
                classes = np.unique(y_k)
            else:
                classes = np.array([0, 1]) if multilabel else self.classes_
            with np.errstate(divide="ignore", invalid="ignore"):  # a class whose examples all
                per_class = compute_class_weight(weight_k, classes=classes, y=y_k,  # weigh 0:
                                                 sample_weight=weights)  # inf, times 0
                total = total * per_class[np.searchsorted(classes, y_k)]
        return np.where(np.isfinite(total), total, 0.0)

    def _stratify_labels(self, Y):
        """Binary: by the label column, as scikit-learn (an error when a class has fewer than 2
        examples); multiclass: by the class, unless a class is too rare (then a plain split);
        multi-label: none."""
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None, False
        if Y.shape[1] == 1:
            return Y.astype(bool), True
        return Y.argmax(axis=1), False

    def _validation_targets(self, Y_val):
        """The validation labels, decoded once per fit."""
        return self._decode(Y_val)

    def _score_outputs(self, out, y, sample_weight=None):
        return accuracy_score(y, self._decode(out), sample_weight=sample_weight)

    def _decode(self, out):
        return self._label_binarizer.inverse_transform(out.ravel() if out.shape[1] == 1 else out)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on (X, y): up to max_iter epochs (iterations for 'lbfgs').

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example (the engine trains on X.T, a view).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples' losses (a weighted mean).

        Returns
        -------
        self : MLPClassifier
            Fitted.

        Raises
        ------
        ValueError
            For a parameter or input scikit-learn's MLPClassifier refuses, weights that sum to
            zero, dropout with 'lbfgs', or a warm start whose architecture differs.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing the optimizer's state. Only for the stochastic
        solvers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples' losses.
        classes : array-like of shape (n_classes,), default=None
            Every class label; required on the first call.

        Returns
        -------
        self : MLPClassifier
            Trained one more epoch.

        Raises
        ------
        ValueError
            With early_stopping, without classes on the first call, or for labels not in
            classes_.
        """
        self._check_partial_fit()  # before classes_ is set; _fit does not check again
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """The class of largest probability (p > 0.5 for one output unit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator; in X's library and on its device under
            array_api_dispatch (labels that are not numbers: NumPy).
        """
        out = self._forward_checked(X, "predict")
        b = backend_of(out)
        if b.is_numpy:
            return self._decode(out)
        return self._decode_on_device(out, b)

    def _decode_on_device(self, out, b):
        """`_decode` where the outputs are: the labels in out's library and on its device (class
        labels that are not numbers, on the host)."""
        xp = b.xp
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return xp.astype(out > 0.5, xp.int64)
        index = xp.astype(out[:, 0] > 0.5, xp.int64) if out.shape[1] == 1 else xp.argmax(
            out, axis=1)
        if self.classes_.dtype.kind not in "iuf":
            return self.classes_[to_numpy(index)]
        return xp.take(b.asarray(self.classes_), index, axis=0)

    def score(self, X, y, sample_weight=None):
        """The mean accuracy of predict(X) against y, weighted by sample_weight.

        Counted on the host: scikit-learn's accuracy_score counts torch's labels in torch's
        default float32 (25 of 30 right gives 0.8333333134651184), NumPy's in float64.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The true labels.
        sample_weight : array-like of shape (n_samples,), default=None
            The examples' weights.

        Returns
        -------
        score : float
            The (weighted) share of examples predicted right; for multi-label y, of examples
            with every label right.
        """
        return float(accuracy_score(on_host(y), on_host(self.predict(X)),
                                    sample_weight=on_host(sample_weight)))

    def predict_proba(self, X):
        """The output layer's A[L], one row per example, in the order of classes_.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            One output unit p (binary) gives [1 - p, p]; multi-label: each label's
            probability. Sigmoid outputs are kept within [eps, 1 - eps]. In X's library and
            on its device under array_api_dispatch.
        """
        return self._proba(self._forward_checked(X, "predict_proba"))

    def _proba(self, out):
        xp = backend_of(out).xp
        if self.out_activation_ == "logistic":
            # sigma(z) rounds to exactly 0 or 1 for |z| > ~37 (float64); a probability stays
            # inside (0, 1), as scikit-learn's log_loss clips it
            eps = xp.finfo(out.dtype).eps
            out = xp.clip(out, eps, 1 - eps)
        if self.n_outputs_ == 1:
            return xp.stack([1 - out[:, 0], out[:, 0]], axis=1)
        return np.ascontiguousarray(out) if xp is np else out

    def predict_log_proba(self, X):
        """log(predict_proba(X)).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The logarithms of predict_proba's probabilities.
        """
        proba = self._proba(self._forward_checked(X, "predict_log_proba"))
        if isinstance(proba, np.ndarray):
            return np.log(proba, out=proba)
        return backend_of(proba).xp.log(proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _onnx_outputs(self):
        return {
            "output": "classifier",
            "classes": self.classes_,
            "multilabel": self._label_binarizer.y_type_ == "multilabel-indicator",
        }

    def _extra_state(self):
        lb = self._label_binarizer
        return {
            "classes": to_json(self.classes_),
            "classes_dtype": str(self.classes_.dtype),
            "y_type": lb.y_type_,
        }

    def _restore_extra_state(self, meta):
        classes = np.asarray(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))
        lb = LabelBinarizer()
        lb.classes_, lb.y_type_, lb.sparse_input_ = classes, meta["y_type"], False
        self._label_binarizer, self.classes_ = lb, classes
