"""benchmarks/: the quick mode runs end to end (a smoke test, nothing about time), and the course's
straightforward algorithm it compares against does exactly the work mlpkit does."""

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpkit import Network

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark_module(name):
    """Import benchmarks/<name>.py (the scripts import each other by plain name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def course():
    return benchmark_module("course_reference")


def table_rows(text):
    """The cells of every Markdown table line of `text` (header included, rule left out)."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ")]


def run_bench(*args):
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_quick_benchmark_prints_every_table():
    run = run_bench("--quick")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for title in ("GEMM peak", "(a) cat network", "(b) ", "(c) ", "(d) peak memory"):
        assert title in out, f"missing table {title!r}:\n{out}"
    for name in ("course's algorithm", "mlpkit", "scikit-learn", "NumPy hand-fused",
                 "matrix products alone"):
        assert f"| {name}" in out
    assert "float32" in out and "float64" in out


def test_bench_rejects_bad_options():
    for args in (["--repeats", "0"], ["--threads", "0"], ["--only", "x"]):
        run = run_bench("--quick", *args)
        assert run.returncode == 2 and "error" in run.stderr


def test_course_reference_does_the_same_work_as_mlpkit(course):
    """Same initialization, same full-batch gradient descent: the same costs and parameters (so
    workload (a) times the same arithmetic, apart from what mlpkit skips, like dA[0])."""
    rng = np.random.default_rng(0)
    dims = [30, 6, 4, 3, 1]
    X = rng.random((dims[0], 40))
    Y = (rng.random((1, 40)) < 0.5).astype(np.float64)
    initial = course.initialize_parameters_deep(dims)

    parameters, costs = course.L_layer_model(
        X, Y, {k: v.copy() for k, v in initial.items()}, learning_rate=0.05, num_iterations=25
    )
    net = Network(dims)
    net.parameters = initial
    history = net.fit(X, Y, epochs=25, learning_rate=0.05)

    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    for key, value in parameters.items():
        np.testing.assert_allclose(net.parameters[key], value, rtol=1e-10, atol=1e-14)


def test_hand_fused_numpy_loop_does_mlpkit_arithmetic():
    """The benchmark's NumPy floor (one hand-fused loop) must do the work mlpkit does: from the
    same parameters and seed, one epoch of Adam gives the same cost and parameters."""
    fused_numpy = benchmark_module("fused_numpy")
    rng = np.random.default_rng(0)
    dims, m = [12, 8, 6, 3], 70
    X_rows = rng.standard_normal((m, dims[0]))
    Y = np.eye(3)[rng.integers(0, 3, m)].T
    net = Network(dims, output_activation="softmax", seed=1)
    trained, cost = fused_numpy.adam_epoch(X_rows, Y, dims, 16, 5, net.parameters, 0.01)
    history = net.fit(X_rows.T, Y, epochs=1, learning_rate=0.01, batch_size=16,
                      optimizer="adam", seed=5)
    assert cost == pytest.approx(history.costs[0], rel=1e-12)
    for key, value in trained.items():
        np.testing.assert_allclose(net.parameters[key], value, rtol=1e-9, atol=1e-12)


def test_quick_serve_load_benchmark_gets_every_answer_right():
    """benchmarks/serve_load.py --quick: a real server, 4 clients x 5 requests, all checked."""
    run = subprocess.run([sys.executable, str(BENCHMARKS / "serve_load.py"), "--quick"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    row = table_rows(run.stdout)[-1]
    assert row[:3] == ["20", "20", "0"]  # requests, correct, wrong or failed
    assert float(row[4]) > 0 and float(row[5]) <= float(row[6]) <= float(row[7])
    assert "4 concurrent clients x 5 requests" in run.stdout and "machine:" in run.stdout


def test_small_playground_load_benchmark_refuses_the_extra_run_and_checks_the_accuracy():
    """benchmarks/playground_load.py on a real playground server, at a small size: one client's
    1000-epoch run streams its updates, one more run gets 429, the final accuracy is
    Network.fit's."""
    run = subprocess.run([sys.executable, str(BENCHMARKS / "playground_load.py"), "--clients",
                          "1", "--epochs", "1000", "--max-runs", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "one more run while 1 train (--max-runs 1): 429" in run.stdout
    assert re.search(r"all streams: \d+ intervals", run.stdout) and "machine:" in run.stdout


def run_script(name, *args):
    return subprocess.run([sys.executable, str(BENCHMARKS / name), *args], capture_output=True,
                          text=True, timeout=600)


def test_lbfgs_benchmark_quick_runs_the_same_iterations():
    run = run_script("lbfgs_vs_sklearn.py", "--quick")
    assert run.returncode == 0, run.stderr
    rows = [row for row in table_rows(run.stdout) if "float" in row[0]]
    assert len(rows) == 2
    for row in rows:
        iterations, losses = row[1:3]
        sk, mk = iterations.split(" / ")
        assert sk == mk  # the same start, the same path
        assert float(losses.split(" / ")[0]) == pytest.approx(float(losses.split(" / ")[1]),
                                                              rel=1e-4)
    assert run_script("lbfgs_vs_sklearn.py", "--quick", "--repeats", "0").returncode == 2


def test_sparse_benchmark_quick_reports_peak_memory():
    run = run_script("sparse_rss.py", "--quick")
    assert run.returncode == 0, run.stderr
    assert "dense float64 copy" in run.stdout and "peak RSS after L-BFGS MiB" in run.stdout
    assert {row[0] for row in table_rows(run.stdout)} >= {"mlpkit", "sklearn"}


def test_quick_stream_benchmark_prints_every_table_and_deletes_its_files(tmp_path):
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "stream_bench.py"), "--quick", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    for title in ("(e) one epoch streamed from HDF5", "(f) one epoch of", "(g) one training epoch",
                  "where the time goes", "targets (issues 12 and 23)", "load average"):
        assert title in run.stdout, f"missing {title!r}:\n{run.stdout}"
    names = {row[0] for row in table_rows(run.stdout)}
    assert {"in memory, exact shuffle", "HDF5, block shuffle"} <= names
    assert list(tmp_path.iterdir()) == []  # the generated files are deleted
    bad = subprocess.run([sys.executable, str(BENCHMARKS / "stream_bench.py"), "--only", "x"],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "error" in bad.stderr


def test_machine_interleaved_rotates_the_order_every_round():
    machine = benchmark_module("machine")
    calls = []
    tasks = {name: (lambda name=name: calls.append(name) or len(calls)) for name in "abc"}
    results = machine.interleaved(tasks, 4, pause=0)
    assert calls == list("abc" "bca" "cab" "abc")
    assert results == {"a": [1, 6, 8, 10], "b": [2, 4, 9, 11], "c": [3, 5, 7, 12]}


def test_machine_table_pads_every_column_to_its_widest_cell():
    machine = benchmark_module("machine")
    assert machine.table(["name", "s"], [["mlpkit", 0.25], ["a", 10]]).splitlines() == [
        "| name   | s    |",
        "|--------|------|",
        "| mlpkit | 0.25 |",
        "| a      | 10   |",
    ]
    with pytest.raises(ValueError):  # a row of the wrong length
        machine.table(["name", "s"], [["mlpkit"]])


def test_machine_counts_cpus_as_mlpkit_does_and_checks_options():
    from mlpkit.data.streams import cpu_count

    machine = benchmark_module("machine")
    assert machine.cpu_count is cpu_count
    assert machine.positive_int("3") == 3
    for bad in ("0", "-2", "2.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            machine.positive_int(bad)
    rss = machine.current_rss_bytes()
    assert machine.reset_peak_rss() and rss > 2**20
    block = np.ones(2**23)  # 64 MiB, written, then freed: the peaks keep it
    del block
    assert machine.peak_rss_bytes() >= rss + 60 * 2**20
    assert machine.max_rss_bytes() >= rss + 60 * 2**20


def test_gpu_check_runs_its_cpu_path_with_torch_as_the_device(tmp_path):
    """benchmarks/gpu_check.py, which a session with a GPU runs as one call, on torch's CPU
    build: parity, the step timing against PyTorch's own Adam, and CuPy skipped when absent."""
    pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    out = tmp_path / "gpu.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "gpu_check.py"), "--device", "cpu", "--quick",
         "--libraries", "torch,cupy", "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr

    results = json.loads(out.read_text())
    assert "cupy" in results["skipped"] or "cupy" in results
    parity = results["torch"]["parity"]
    assert {row[0] for row in parity} == {"gd", "adam-minibatch-l2", "rmsprop-l2",
                                           "batchnorm-momentum", "lbfgs"}
    assert all(row[-1] is True for row in parity)
    speed = results["torch"]["speed"]
    assert [row[1] for row in speed[1:]] == [64, 256]
    assert all(float(row[2]) > 0 and float(row[3]) > 0 for row in speed[1:])
    assert "| 784-256-128-10 Adam |" in result.stdout
