"""The README's first example runs as written and prints the course's published numbers."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

pytestmark = pytest.mark.slow


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_example_reproduces_the_published_run(cat_data_dir, monkeypatch):
    monkeypatch.setenv("MLPKIT_DATA", str(cat_data_dir))
    namespace = {}
    exec(python_blocks()[0], namespace)  # noqa: S102 - our own README
    history, net = namespace["history"], namespace["net"]
    assert history.costs[0] == pytest.approx(0.7717493, abs=1e-6)
    assert history.costs[2400] == pytest.approx(0.0928782, abs=1e-6)
    assert net.score(namespace["X"], namespace["train_y"]) == pytest.approx(206 / 209)
    assert net.score(namespace["X_test"], namespace["test_y"]) == pytest.approx(0.80)
