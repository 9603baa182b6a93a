"""mlpkit's estimators in skl2onnx: `register_skl2onnx()` registers mlpkit's own ONNX converter
(`mlpkit.io.onnx`, batch norm folded, every activation including leaky_relu, the Poisson
output) for MLPClassifier and MLPRegressor, so `skl2onnx.to_onnx(estimator or pipeline, X)`
converts them right, alone or inside a Pipeline.

skl2onnx's stock converter for scikit-learn's MLP reads coefs_, intercepts_, activation and
out_activation_: on mlpkit's estimators coefs_ / intercepts_ are the affine maps that prediction
applies (batch norm folded), so where that converter knows the activations it is right, and it
refuses the ones it does not map ('leaky_relu', the Poisson 'exp' output) with a KeyError.
"""

import dataclasses

import numpy as np

from .classifier import MLPClassifier
from .regressor import MLPRegressor

CLASSIFIER_ALIAS = "MlpkitMLPClassifier"
REGRESSOR_ALIAS = "MlpkitMLPRegressor"


def register_skl2onnx():
    """Register mlpkit's converter for MLPClassifier and MLPRegressor with skl2onnx (needs
    skl2onnx; calling it again changes nothing). Inputs must be float32
    (skl2onnx's FloatTensorType). The classifier takes skl2onnx's options zipmap and nocl
    (the label is the class's index in classes_, int64)."""
    try:
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
    except ImportError:
        raise ImportError("register_skl2onnx needs skl2onnx: pip install skl2onnx") from None
    update_registered_converter(
        MLPClassifier, CLASSIFIER_ALIAS, calculate_linear_classifier_output_shapes, _convert,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(
        MLPRegressor, REGRESSOR_ALIAS, calculate_linear_regressor_output_shapes, _convert
    )


def _convert(scope, operator, container):
    """skl2onnx converter: mlpkit's graph between skl2onnx's input and output variables."""
    from onnx import TensorProto

    from ..io.onnx import build

    source = operator.inputs[0]
    if getattr(source.type, "to_onnx_type", None) is not None and (
        source.type.to_onnx_type().tensor_type.elem_type != TensorProto.FLOAT
    ):
        name = type(operator.raw_operator).__name__
        raise TypeError(
            f"mlpkit's ONNX converter computes in float32; give {name} a FloatTensorType "
            f"input (got {type(source.type).__name__})"
        )
    model = operator.raw_operator
    spec = model._onnx_spec()
    if spec.classes is not None and scope.get_options(model, dict(nocl=False))["nocl"]:
        # skl2onnx's nocl: the label is the class's index (int64), as its shapes declare
        spec = dataclasses.replace(spec, classes=np.arange(len(spec.classes)))
    build(spec, _ContainerGraph(scope, container), source.full_name,
          output_names=[v.full_name for v in operator.outputs])


class _ContainerGraph:
    """`build`'s graph interface over skl2onnx's scope (unique names) and container."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def name(self, prefix):
        return self.scope.get_unique_variable_name(prefix)

    def const(self, prefix, array):
        from onnx import TensorProto

        from ..io.onnx import tensor

        name = self.name(prefix)
        value = tensor(name, array)
        # skl2onnx copies a TensorProto's raw_data only, which strings do not use: pass them
        content = list(value.string_data) if value.data_type == TensorProto.STRING else value
        self.container.add_initializer(name, value.data_type, list(value.dims), content)
        return name

    def node(self, op, inputs, prefix=None, output=None, **attributes):
        output = output if output is not None else self.name(prefix or op.lower())
        self.container.add_node(op, inputs, output,
                                name=self.scope.get_unique_operator_name(op), **attributes)
        return output
