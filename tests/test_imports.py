"""Import weight: the package, the engine and the estimators load none of the heavy libraries
that only data files, images, plots, progress bars and process pools need."""

import json
import subprocess
import sys

import pytest

HEAVY = ("h5py", "PIL", "matplotlib", "tqdm", "joblib", "dask", "distributed", "fastapi",
         "uvicorn", "starlette", "onnx", "onnxruntime", "torch")


def loaded_after(statement):
    """The HEAVY modules in sys.modules after running `statement` in a fresh interpreter."""
    code = (f"import sys, json\n{statement}\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("statement", [
    "import mlpkit",
    "import mlpkit.nn",
    "import mlpkit.optim, mlpkit.training",
    "import mlpkit.data",
    "from mlpkit import Network, gradient_check; Network([3, 2, 1]).fit([[0.0], [1], [2]], [[1]])",
    "from mlpkit import diagnose; str(diagnose(0.01, 0.11).with_run({}, ['train', 'd.h5']))",
])
def test_the_package_and_the_engine_load_nothing_heavy(statement):
    assert loaded_after(statement) == set()


def test_the_estimators_load_only_what_scikit_learn_itself_loads():
    """scikit-learn imports joblib in sklearn.base; mlpkit's estimators add nothing to it."""
    baseline = loaded_after("import sklearn.base, sklearn.model_selection, sklearn.preprocessing")
    assert baseline <= {"joblib"}
    assert loaded_after("from mlpkit import MLPClassifier, MLPRegressor") == baseline
    assert loaded_after("import mlpkit.estimators; mlpkit.MLPClassifier(max_iter=5).fit("
                        "[[0.0], [1], [2], [3]], [0, 1, 0, 1])") == baseline
