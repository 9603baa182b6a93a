"""benchmarks/search_parallel.py: its quick mode runs every mode end to end (a smoke test,
nothing about time) and the mlpkit modes agree."""

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "search_parallel.py"


def test_quick_search_benchmark_runs_every_mode():
    run = subprocess.run([sys.executable, str(BENCHMARK), "--quick"], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")][1:]
    names = [row.split(" | ")[0].lstrip("| ").rstrip() for row in rows]
    assert names == [
        "mlpkit, 1 worker (BLAS on all cores)",
        "mlpkit, 1 worker x 1 BLAS thread",
        "mlpkit, 2 local processes x 1 BLAS thread",
        "mlpkit on a Dask LocalCluster, 2 workers x 1 thread",
        "scikit-learn RandomizedSearchCV(MLPClassifier), n_jobs=2",
    ]
    assert "mlpkit modes give the same dev scores: True" in run.stdout
    assert "vs scikit-learn RandomizedSearchCV n_jobs=2" in run.stdout
    bad = subprocess.run([sys.executable, str(BENCHMARK), "--trials", "0"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "must be >= 1" in bad.stderr
