"""`ImageClassifier`: a Network plus what it needs to classify images (class names, image size,
preprocessing), saved and loaded by `mlpkit.save` / `mlpkit.load`."""

import numpy as np

from ..data.preprocessing import Standardizer, flatten_images
from ..io.model_files import _array, network_from_state, network_to_state
from ..nn.backend import host_dtype, to_numpy
from ..nn.checks import output_layer
from ..nn.network import Network


class ImageClassifier:
    """A Network plus what it needs to classify images: class names and preprocessing.

    images uint8 (m, s, s, 3) -> X = images.reshape(m, -1).T / 255 -> (X - mu) / sigma when a
    fitted Standardizer is given -> network. Two classes use one sigmoid unit (P(class 1)),
    more use softmax.

    Parameters
    ----------
    network : Network
        Takes s * s * 3 inputs and has the output layer the classes need.
    classes : sequence of str
        The class names, in the order of the network's outputs (at least 2).
    image_size : int
        s, the side of the square RGB images.
    standardizer : Standardizer, optional
        A fitted standardizer applied after the 1/255 scaling.
    device : str, optional
        Where the network trains and predicts ("cpu", "cuda", "cuda:1", "mps"); see `to`.
    backend : {"numpy", "torch", "cupy"}, optional
        The array library on that device; see `to`.
    dtype : {"float32", "float64"}, optional
        The precision there; see `to`.

    Raises
    ------
    ValueError
        When the network's inputs or outputs do not fit the image size or the classes, or the
        device cannot be used (see `to`).
    """

    def __init__(self, network, classes, image_size, standardizer=None, *, device=None,
                 backend=None, dtype=None):
        self.network = network
        self.classes = [str(c) for c in classes]
        self.image_size = int(image_size)
        self.standardizer = standardizer
        self.placed = False  # to() was called: fit and predict run where it put the network
        expected = self.image_size * self.image_size * 3
        if network.layer_dims[0] != expected:
            raise ValueError(
                f"the network takes {network.layer_dims[0]} inputs; {self.image_size}x"
                f"{self.image_size} RGB images have {expected}"
            )
        n_y, _ = self.output_layer(len(self.classes))
        if len(self.classes) < 2 or network.layer_dims[-1] != n_y:
            raise ValueError(
                f"{len(self.classes)} classes need {n_y} output unit(s); the network has "
                f"{network.layer_dims[-1]}"
            )
        if device is not None or backend is not None or dtype is not None:
            self.to(device, backend, dtype)

    output_layer = staticmethod(output_layer)  # one sigmoid unit for 2 classes, else softmax

    @classmethod
    def build(cls, classes, image_size, hidden=(), *, device=None, backend=None, dtype=None,
              **network_options):
        """An untrained classifier: a Network from the image's pixels through the `hidden` layer
        sizes to the output layer the classes need.

        Parameters
        ----------
        classes : sequence of str
            The class names (at least 2).
        image_size : int
            The side of the square RGB images.
        hidden : sequence of int, default ()
            The hidden layers' sizes.
        device, backend, dtype : str, optional
            Where it trains and predicts (see `to`).
        **network_options
            Passed to Network (init, seed, batch_norm, ...).

        Returns
        -------
        ImageClassifier
            The new classifier.
        """
        n_y, activation = cls.output_layer(len(classes))
        network = Network([image_size * image_size * 3, *hidden, n_y],
                          output_activation=activation, **network_options)
        return cls(network, classes, image_size, device=device, backend=backend, dtype=dtype)

    def to(self, device=None, backend=None, dtype=None):
        """Move the network to a device: `fit` then trains there, its batches copied from the
        host one ahead (`mlpkit.training.devices.DeviceSource`), and `predict_proba` computes
        there and answers in NumPy.

        Parameters
        ----------
        device : str, optional
            "cpu", "cuda", "cuda:N", "mps", ... (None: the CPU, or the library's default).
        backend : {"numpy", "torch", "cupy"}, optional
            The array library (None: NumPy on the CPU; for another device torch when it is
            installed, else CuPy).
        dtype : {"float32", "float64"}, optional
            The precision (None: float64 on the host, float32 on GPUs).

        Returns
        -------
        ImageClassifier
            self.

        Raises
        ------
        ValueError
            For a device the library cannot use (CUDA not available, NumPy off the CPU), or
            float64 on a device without it (Apple's MPS).
        ImportError
            When the library the device needs is not installed.
        """
        from ..training.devices import placement

        self.network.to(*placement(device, backend, dtype))
        self.placed = True
        return self

    def fit(self, X, Y=None, **fit_options):
        """Train the network (`Network.fit`), where `to` put it: each batch of the host data is
        moved there in the network's dtype.

        Parameters
        ----------
        X : array (n_x, m) or source
            The preprocessed images (see `preprocess`), or a source of mini-batches.
        Y : array (n_y, m), optional
            The targets (see `targets`); None when X is a source.
        **fit_options
            Network.fit's options (epochs, learning_rate, batch_size, validation_data, ...).

        Returns
        -------
        mlpkit.training.History
            The run's history.
        """
        if not self.placed:
            return self.network.fit(X, Y, **fit_options)
        from ..training.devices import DeviceSource

        net = self.network
        source = DeviceSource.of(net, X, Y, fit_options.pop("sample_weight", None),
                                 backend=net.backend, dtype=net.dtype)
        return net.fit(source, **fit_options)

    def targets(self, labels):
        """Class indices -> Y for the network.

        Parameters
        ----------
        labels : array of int (m,)
            Class indices into `classes`.

        Returns
        -------
        ndarray
            0/1 labels (1, m) for 2 classes, one-hot columns (n_classes, m) for more, float64.
        """
        from sklearn.preprocessing import label_binarize

        Y = label_binarize(labels, classes=range(len(self.classes))).T
        return Y.astype(np.float64, order="C")

    def __repr__(self):
        return (f"ImageClassifier({self.network!r}, classes={self.classes}, "
                f"image_size={self.image_size})")

    def preprocess(self, images, dtype=np.float64):
        """uint8 images -> X: scaled to [0, 1], then standardized.

        Parameters
        ----------
        images : array of uint8 (m, s, s, 3)
            RGB images of the model's size.
        dtype : NumPy dtype, default float64
            The dtype of X.

        Returns
        -------
        ndarray (n_x, m)
            X on the host, one column per image.

        Raises
        ------
        ValueError
            When the images are not (m, s, s, 3) for the model's s.
        """
        images = np.asarray(images)
        shape = (self.image_size, self.image_size, 3)
        if images.ndim != 4 or images.shape[1:] != shape:
            raise ValueError(
                f"images have shape {images.shape[1:]} but the model expects {shape} "
                f"({self.image_size}x{self.image_size} RGB)"
            )
        X = flatten_images(images, dtype)
        if self.standardizer is not None:
            X = self.standardizer.transform(X)
        return X

    def predict_proba(self, images):
        """P(class) for each image, computed where the network is.

        Parameters
        ----------
        images : array of uint8 (m, s, s, 3)
            RGB images of the model's size.

        Returns
        -------
        ndarray (m, n_classes)
            NumPy, on the host; rows sum to 1.

        Raises
        ------
        ValueError
            When the images are not (m, s, s, 3) for the model's s.
        """
        net = self.network
        X = self.preprocess(images, host_dtype(net.dtype))
        AL = to_numpy(net.predict_proba(net.backend.asarray(X)))
        if AL.shape[0] == 1:
            AL = np.vstack([1 - AL, AL])
        return AL.T

    def predict(self, images):
        """Class indices (argmax of predict_proba).

        Parameters
        ----------
        images : array of uint8 (m, s, s, 3)
            RGB images of the model's size.

        Returns
        -------
        ndarray of int (m,)
            The most probable class of each image.
        """
        return self.predict_proba(images).argmax(axis=1)

    def answer(self, proba):
        """One image's answer from its row of predict_proba (for the CLI and the web API).

        Parameters
        ----------
        proba : array (n_classes,)
            One row of `predict_proba`.

        Returns
        -------
        dict
            {"class": the most probable class, "probability": its probability,
            "probabilities": {class: P(class)}}.
        """
        k = int(np.argmax(proba))
        return {"class": self.classes[k], "probability": float(proba[k]),
                "probabilities": dict(zip(self.classes, map(float, proba), strict=True))}

    def _onnx_spec(self):
        """What `mlpkit.to_onnx` exports: uint8 images -> the preprocessing -> the network ->
        the class index and the probabilities."""
        from ..io.onnx import OnnxSpec

        st = self.standardizer
        return OnnxSpec(self.network, output="image_classifier", classes=np.array(self.classes),
                        image_size=self.image_size, mean=None if st is None else st.mean_,
                        scale=None if st is None else st.scale_)

    def _to_state(self):
        meta, arrays = network_to_state(self.network)
        state = {
            "network": meta,
            "classes": self.classes,
            "preprocessing": {
                "image_size": self.image_size,
                "channels": "RGB",
                "scale": 1 / 255,
                "standardize": self.standardizer is not None,
            },
        }
        if self.standardizer is not None:
            arrays["preprocessing.mean"] = self.standardizer.mean_
            arrays["preprocessing.var"] = self.standardizer.var_
            arrays["preprocessing.scale"] = self.standardizer.scale_
        return state, arrays

    @classmethod
    def _from_state(cls, meta, arrays):
        network = network_from_state(meta["network"], arrays)
        pre = meta["preprocessing"]
        standardizer = None
        if pre.get("standardize"):
            standardizer = Standardizer()
            n_x = network.layer_dims[0]
            for name in ("mean", "var", "scale"):
                value = _array(arrays, f"preprocessing.{name}")
                if value.shape != (n_x, 1) or value.dtype.kind != "f":
                    raise ValueError(f"array preprocessing.{name} must be float ({n_x}, 1)")
                setattr(standardizer, f"{name}_", value)
        return cls(network, meta["classes"], pre["image_size"], standardizer)
