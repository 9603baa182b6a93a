"""`mlpkit evaluate`: accuracy, precision, recall, F1 and the confusion matrix on labeled data,
streamed batch by batch (an HDF5 file read in ranges, a folder decoded by worker processes)."""

from __future__ import annotations

import numpy as np

from .cli_data import open_for_model
from .cli_files import check_writable, load_classifier
from .cli_options import STRICT, int_at_least


def run(args):
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    from ..data.streams import predict_source

    if args.mislabeled:
        check_writable(args.mislabeled, "mislabeled.png")
    model = load_classifier(args.model)
    source = open_for_model(args.data, model, args.strict, args.workers)
    outputs, index = predict_source(model.network, source)
    predicted = _classes(outputs)
    labels = source.labels[index]
    classes = model.classes
    binary = len(classes) == 2
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=range(len(classes)), average="binary" if binary else "macro",
        zero_division=0,
    )
    which = f"class {classes[1]!r} as positive" if binary else "macro average over classes"
    print(f"{len(labels)} images in {args.data}")
    print(f"accuracy   {accuracy_score(labels, predicted):.4f}")
    print(f"precision  {precision:.4f}  ({which})")
    print(f"recall     {recall:.4f}")
    print(f"F1         {f1:.4f}")
    print("confusion matrix (rows: true class, columns: predicted class):")
    matrix = confusion_matrix(labels, predicted, labels=range(len(classes)))
    width = max(8, *(len(c) + 2 for c in classes))
    print(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for c, row in zip(classes, matrix, strict=True):
        print(f"{c:<{width}}" + "".join(f"{n:>{width}}" for n in row))
    if args.mislabeled:
        from .plots import plot_mislabeled

        path = plot_mislabeled(_Images(source, index), labels, predicted, classes,
                               args.mislabeled)
        print(f"misclassified images in {path}")
    return 0


def _classes(outputs):
    """Class indices (m,) from the network's outputs: P(class 1) > 0.5 for one sigmoid unit,
    else the argmax, as ImageClassifier.predict."""
    if outputs.shape[0] == 1:
        return (outputs[0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=0)


class _Images:
    """The source's images at `index`, read one by one when shown (the gallery shows a few)."""

    def __init__(self, source, index):
        self.source, self.index = source, index
        self.shape = (len(index), *source.image_shape)
        self.ndim = len(self.shape)

    def __getitem__(self, i):
        return self.source.images(self.index[i : i + 1])[0]


def add_parser(commands):
    evaluate = commands.add_parser(
        "evaluate", help="accuracy, precision, recall, F1 and confusion matrix on labeled data",
        parents=[STRICT])
    evaluate.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    evaluate.add_argument("data", metavar="DATA", help="HDF5 file or folder of class folders")
    evaluate.add_argument("--mislabeled", metavar="PNG",
                          help="write a gallery of the misclassified images")
    evaluate.add_argument("--workers", type=int_at_least(0), default=None, metavar="N",
                          help="processes decoding the images of a folder (default: one per CPU)")
    evaluate.set_defaults(run=run)

