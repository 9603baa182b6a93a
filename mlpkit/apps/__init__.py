"""Applications on top of everything else: `ImageClassifier`, the `mlpkit` command, plots.

May import every other subpackage of mlpkit.
"""
