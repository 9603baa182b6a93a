"""The README: a front page of at most 150 lines whose links resolve, whose test command is
what CI runs, and whose first example prints the course's published numbers."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.slow
def test_the_readme_example_reproduces_the_published_run(cat_data_dir, monkeypatch):
    monkeypatch.setenv("MLPKIT_DATA", str(cat_data_dir))
    namespace = {}
    exec(python_blocks()[0], namespace)  # noqa: S102 - our own README
    history, net = namespace["history"], namespace["net"]
    assert history.costs[0] == pytest.approx(0.7717493, abs=1e-6)
    assert history.costs[2400] == pytest.approx(0.0928782, abs=1e-6)
    assert net.score(namespace["X"], namespace["train_y"]) == pytest.approx(206 / 209)
    assert net.score(namespace["X_test"], namespace["test_y"]) == pytest.approx(0.80)


CI = README.parent / ".ci" / "run"


def test_the_readme_is_a_front_page_of_at_most_150_lines():
    assert len(README.read_text().splitlines()) <= 150


def test_every_link_of_the_readme_resolves_to_a_file_of_the_repository():
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    assert len(links) >= 10  # the table of links into the documentation
    broken = [link for link in links if link.startswith(("http://", "https://"))
              or not (README.parent / link.split("#")[0]).is_file()]
    assert not broken, f"links that are not files of the repository: {broken}"


def test_the_readme_test_command_is_what_ci_runs_and_builds_the_docs_first():
    commands = re.findall(r"^    (python -m pip install .*)$", README.read_text(), re.M)
    assert commands[0] == "python -m pip install -e . && mlpkit demo"
    test_command = commands[1]
    assert test_command in CI.read_text().splitlines()
    assert test_command.index("python -m sphinx -W --keep-going -b html docs docs/_build/html") \
        < test_command.index("python -m pytest")
