"""`ImageClassifier`: a Network plus what it needs to classify images (class names, image size,
preprocessing), saved and loaded by `mlpkit.save` / `mlpkit.load`."""

import numpy as np

from ..data.preprocessing import Standardizer, flatten_images
from ..io.model_files import _array, network_from_state, network_to_state
from ..nn.checks import output_layer
from ..nn.network import Network


class ImageClassifier:
    """A Network plus what it needs to classify images: class names and preprocessing.

    images uint8 (m, s, s, 3) -> X = images.reshape(m, -1).T / 255 -> (X - mu) / sigma when a
    fitted Standardizer is given -> network. Two classes use one sigmoid unit (P(class 1)),
    more use softmax.
    """

    def __init__(self, network, classes, image_size, standardizer=None):
        self.network = network
        self.classes = [str(c) for c in classes]
        self.image_size = int(image_size)
        self.standardizer = standardizer
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

    output_layer = staticmethod(output_layer)  # one sigmoid unit for 2 classes, else softmax

    @classmethod
    def build(cls, classes, image_size, hidden=(), **network_options):
        """An untrained classifier: a Network from the image's pixels through the `hidden` layer
        sizes to the output layer the classes need; network_options go to Network."""
        n_y, activation = cls.output_layer(len(classes))
        network = Network([image_size * image_size * 3, *hidden, n_y],
                          output_activation=activation, **network_options)
        return cls(network, classes, image_size)

    def targets(self, labels):
        """Class indices (m,) -> Y for the network: 0/1 labels (1, m) for 2 classes, one-hot
        columns (n_classes, m) for more."""
        from sklearn.preprocessing import label_binarize

        Y = label_binarize(labels, classes=range(len(self.classes))).T
        return Y.astype(np.float64, order="C")

    def __repr__(self):
        return (f"ImageClassifier({self.network!r}, classes={self.classes}, "
                f"image_size={self.image_size})")

    def preprocess(self, images, dtype=np.float64):
        """uint8 images (m, s, s, 3) -> X (n_x, m): scaled to [0, 1], then standardized."""
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
        """P(class) for each image: (m, n_classes), rows sum to 1."""
        AL = self.network.predict_proba(self.preprocess(images, self.network.dtype))
        if AL.shape[0] == 1:
            AL = np.vstack([1 - AL, AL])
        return AL.T

    def predict(self, images):
        """Class indices (m,) (argmax of predict_proba)."""
        return self.predict_proba(images).argmax(axis=1)

    def answer(self, proba):
        """One image's answer from its row of predict_proba: {"class": the most probable class,
        "probability": its probability, "probabilities": {class: P(class)}} (for the CLI and
        the web API)."""
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
