"""ONNX export: a model's prediction as an ONNX graph, in float32, that onnxruntime (or any ONNX
runtime) evaluates without mlpkit.

The graph is the prediction forward pass in the examples-as-rows layout of ONNX (X is
(N, n_x), the transpose of the course's): for each layer Z = A W'^T + b' (one Gemm; under batch
norm the normalization with its running statistics is folded into W' and b',
`Network.affine_layers`), then the activation (Relu, Tanh, Sigmoid, LeakyRelu(alpha=0.01),
Softmax, Exp, or none for the identity). Around it, what each kind of model adds, described by
an `OnnxSpec` that the model provides (`_onnx_spec()`): an ImageClassifier's preprocessing of
uint8 images (Cast, Reshape to (N, s*s*3), Div by 255, then Sub mean and Div scale when it
standardizes), a classifier's `label` and `probabilities` outputs (as skl2onnx names them), a
regressor's `variable`.

`onnx` is imported only here, when a model is exported (the optional extra `mlpkit[onnx]`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.activations import LEAKY_SLOPE
from ..nn.network import Network
from .files import atomic_write

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17 (ONNX 1.12; see onnx.helper.VERSION_TABLE)
ACTIVATION_OPS = {
    "relu": "Relu",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyRelu",
    "softmax": "Softmax",
    "exponential": "Exp",
    "linear": None,
    "identity": None,
}


@dataclass
class OnnxSpec:
    """What to export: the network, its input (n_features columns of floats, or uint8 images
    (N, image_size, image_size, 3) scaled by 1/255 and standardized by mean and scale), and its
    outputs: "network" (A[L] as `output`), "classifier" (`label` from `classes`, and
    `probabilities`; multilabel: a 0/1 label per output) or "regressor" (`variable`); an
    "image_classifier" labels by class index."""

    network: Network
    n_features: int | None = None
    output: str = "network"
    classes: np.ndarray | None = None
    multilabel: bool = False
    image_size: int | None = None
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def output_names(self):
        if self.output in ("classifier", "image_classifier"):
            return ["label", "probabilities"]
        return ["variable"] if self.output == "regressor" else ["output"]


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'mlpkit[onnx]' (or pip install "
            "onnx)"
        ) from None
    return onnx


def spec_of(model):
    """The OnnxSpec of a Network, an ImageClassifier or an mlpkit estimator."""
    if isinstance(model, Network):
        return OnnxSpec(model)
    spec = getattr(model, "_onnx_spec", None)
    if not callable(spec):
        raise TypeError(
            "to_onnx expects an mlpkit Network, ImageClassifier, MLPClassifier or "
            f"MLPRegressor; got {type(model).__name__}"
        )
    return spec()


def to_onnx(model, path=None):
    """The ONNX model (an onnx.ModelProto, float32) that computes `model`'s predictions; written
    to `path` (atomically) when one is given.

    Inputs and outputs: a Network takes X (N, n_x) and gives `output` = A[L]^T (N, n_y); an
    MLPClassifier takes X (N, n_features) and gives `label` (N,) (its classes; for multi-label
    an int64 0/1 indicator (N, n_labels)) and `probabilities` (N, n_classes), as predict and
    predict_proba; an MLPRegressor gives `variable` (N, n_outputs); an ImageClassifier takes
    uint8 `images` (N, s, s, 3) and gives `label` (the class index) and `probabilities`.

    Parameters
    ----------
    model : Network, ImageClassifier, MLPClassifier or MLPRegressor
        The fitted model to export.
    path : str or Path, optional
        Where to write the `.onnx` file; by default nothing is written.

    Returns
    -------
    proto : onnx.ModelProto
        The model, checked by `onnx.checker.check_model`.

    Raises
    ------
    ImportError
        If the onnx package is not installed (the extra `mlpkit[onnx]`).
    TypeError
        If `model` is not of a kind above.
    """
    onnx = _import_onnx()
    spec = spec_of(model)
    graph = _HelperGraph(onnx)
    inputs = [_input_info(onnx, spec)]
    outputs = build(spec, graph, inputs[0].name)
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes, f"mlpkit_{type(model).__name__}", inputs,
            [_output_info(onnx, spec, name, value) for name, value in outputs.items()],
            initializer=graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="mlpkit",
    )
    proto.ir_version = IR_VERSION
    if spec.output == "image_classifier":
        onnx.helper.set_model_props(proto, {"classes": ",".join(map(str, spec.classes))})
    onnx.checker.check_model(proto)
    if path is not None:
        atomic_write(path, lambda f: f.write(proto.SerializeToString()))
    return proto


def build(spec, graph, input_name, output_names=None):
    """Add the nodes of `spec`'s prediction to `graph` (an object with const, node and name
    methods), reading `input_name`; returns {output name: value name}. output_names renames
    the outputs (skl2onnx gives its own)."""
    net = spec.network
    A = graph.node("Cast", [input_name], "input_float", to=_onnx_type(np.float32))
    if spec.image_size is not None:
        n_x = spec.image_size * spec.image_size * 3
        A = graph.node("Reshape", [A, graph.const("shape", np.array([-1, n_x], np.int64))],
                       "pixels")
        A = graph.node("Div", [A, graph.const("max_value", np.array(255, np.float32))],
                       "scaled")
        if spec.mean is not None:
            A = graph.node("Sub", [A, graph.const("mean", _f32(np.ravel(spec.mean)))],
                           "centered")
            A = graph.node("Div", [A, graph.const("std", _f32(np.ravel(spec.scale)))],
                           "standardized")
    for l, (W, b) in enumerate(net.affine_layers(), start=1):
        A = graph.node("Gemm", [A, graph.const(f"W{l}", _f32(W)), graph.const(f"b{l}",
                       _f32(b[:, 0]))], f"Z{l}", transB=1)
        A = _activation(graph, net.activations[l - 1], A, f"A{l}")
    names = dict(zip(spec.output_names(), output_names or spec.output_names(), strict=True))
    if spec.output in ("network", "regressor"):
        key = spec.output_names()[0]
        return {key: graph.node("Identity", [A], output=names[key])}
    if net.output_activation == "sigmoid" and not spec.multilabel:  # one unit: [1 - p, p]
        complement = graph.node("Sub", [graph.const("one", np.array(1, np.float32)), A], "q")
        proba = graph.node("Concat", [complement, A], output=names["probabilities"], axis=1)
    else:
        proba = graph.node("Identity", [A], output=names["probabilities"])
    if spec.multilabel:
        above = graph.node("Greater", [proba, graph.const("half", np.array(0.5, np.float32))],
                           "above")
        label = graph.node("Cast", [above], output=names["label"], to=_onnx_type(np.int64))
    else:
        index = graph.node("ArgMax", [proba], "index", axis=1, keepdims=0)
        if spec.output == "image_classifier":
            label = graph.node("Identity", [index], output=names["label"])
        else:
            label = graph.node("Gather", [graph.const("classes", _classes(spec.classes)), index],
                               output=names["label"], axis=0)
    return {"label": label, "probabilities": proba}


def _activation(graph, name, A, prefix):
    op = ACTIVATION_OPS.get(name, "?")
    if op == "?":
        raise ValueError(f"activation {name!r} has no ONNX operator here")
    if op is None:
        return A
    if op == "LeakyRelu":
        return graph.node(op, [A], prefix, alpha=LEAKY_SLOPE)
    if op == "Softmax":
        return graph.node(op, [A], prefix, axis=1)
    return graph.node(op, [A], prefix)


def _f32(array):
    return np.ascontiguousarray(array, dtype=np.float32)


def _classes(classes):
    """The class labels as an ONNX tensor's values: int64, float, bool or strings."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu":
        return classes.astype(np.int64)
    if classes.dtype.kind in "fb":
        return classes
    return np.array([str(c) for c in classes], dtype=object)


def _onnx_type(dtype):
    from onnx import TensorProto, helper

    if np.dtype(dtype).kind == "O":
        return TensorProto.STRING
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def tensor(name, array):
    """An ONNX TensorProto holding `array` (numbers, or strings as an object array)."""
    from onnx import TensorProto, helper, numpy_helper

    array = np.asarray(array)
    if array.dtype.kind == "O":
        return helper.make_tensor(name, TensorProto.STRING, array.shape,
                                  [str(s).encode("utf-8") for s in array.ravel()])
    return numpy_helper.from_array(array, name)


def _input_info(onnx, spec):
    if spec.image_size is not None:
        s = spec.image_size
        return onnx.helper.make_tensor_value_info("images", onnx.TensorProto.UINT8,
                                                  [None, s, s, 3])
    n_x = spec.n_features or spec.network.layer_dims[0]
    return onnx.helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, [None, n_x])


def _output_info(onnx, spec, name, value):
    n_y = spec.network.layer_dims[-1]
    if name == "label":
        if spec.multilabel:
            return onnx.helper.make_tensor_value_info(value, onnx.TensorProto.INT64,
                                                      [None, n_y])
        dtype = np.int64 if spec.output == "image_classifier" else _classes(spec.classes).dtype
        return onnx.helper.make_tensor_value_info(value, _onnx_type(dtype), [None])
    width = 2 if name == "probabilities" and n_y == 1 and not spec.multilabel else n_y
    return onnx.helper.make_tensor_value_info(value, onnx.TensorProto.FLOAT, [None, width])


class _HelperGraph:
    """Nodes and initializers collected with onnx.helper, with unique names."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.initializers, self._used = [], [], set()

    def name(self, prefix):
        name, i = prefix, 1
        while name in self._used:
            i += 1
            name = f"{prefix}_{i}"
        self._used.add(name)
        return name

    def const(self, prefix, array):
        name = self.name(prefix)
        self.initializers.append(tensor(name, array))
        return name

    def node(self, op, inputs, prefix=None, output=None, **attributes):
        output = output if output is not None else self.name(prefix or op.lower())
        self._used.add(output)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output],
                                                     name=self.name(f"{op}_node"),
                                                     **attributes))
        return output
