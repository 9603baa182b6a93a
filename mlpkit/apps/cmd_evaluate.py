"""`mlpkit evaluate`: accuracy, precision, recall, F1 and the confusion matrix on labeled data."""

from __future__ import annotations

from .cli_common import load_classifier, load_labeled


def run(args):
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    model = load_classifier(args.model)
    images, labels = load_labeled(args.data, model.image_size, model.classes, args.strict)
    predicted = model.predict(images)
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

        path = plot_mislabeled(images, labels, predicted, classes, args.mislabeled)
        print(f"misclassified images in {path}")
    return 0


def add_parser(commands):
    evaluate = commands.add_parser(
        "evaluate", help="accuracy, precision, recall, F1 and confusion matrix on labeled data")
    evaluate.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    evaluate.add_argument("data", metavar="DATA", help="HDF5 file or folder of class folders")
    evaluate.add_argument("--mislabeled", metavar="PNG",
                          help="write a gallery of the misclassified images")
    evaluate.add_argument("--strict", action="store_true",
                          help="fail on unreadable image files instead of skipping them")
    evaluate.set_defaults(run=run)
