"""What the ONNX tests share: running a model in onnxruntime, the tolerance, and the rule for
labels (equal, except where a decision is within the tolerance)."""

import numpy as np
import onnxruntime as ort

TOL = 1e-5  # onnxruntime's float32 outputs against mlpkit's


def run(proto, **inputs):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def assert_labels_agree(label, expected, proba, multilabel=False):
    """ONNX's labels equal mlpkit's `expected`, except where mlpkit's probabilities `proba` put
    the decision within TOL, so that float32 rounding may decide either way: a multi-label
    output within TOL of 0.5, or the two largest probabilities of a row within 2 TOL of each
    other (a binary [1 - p, p]: p within TOL of 0.5; softmax: the runner-up class)."""
    proba = np.asarray(proba)
    if multilabel:
        near = np.abs(proba - 0.5) <= TOL
    else:
        top_two = np.sort(proba, axis=1)[:, -2:]
        near = top_two[:, 1] - top_two[:, 0] <= 2 * TOL
    label, expected = np.asarray(label), np.asarray(expected)
    assert label.shape == expected.shape, (label.shape, expected.shape)
    wrong = (label != expected) & ~near
    assert not wrong.any(), (
        f"{wrong.sum()} labels differ from mlpkit's away from a decision boundary, e.g. rows "
        f"{np.flatnonzero(wrong.reshape(len(label), -1).any(axis=1))[:5]}"
    )
