"""What the search tests share: one BLAS thread per process they start, and a `dask scheduler`
with `dask worker` processes on 127.0.0.1 (a module of its own, with a name no other test
folder uses, because Dask workers import the tests' modules to unpickle their trial
functions)."""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# one BLAS thread per process started here: tests run side by side on few cores
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LOCALHOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def local_client(folder, **options):
    """A distributed.Client of LocalCluster(**options) without a dashboard, its files in
    `folder`; both closed after."""
    import distributed

    cluster = distributed.LocalCluster(dashboard_address=None, local_directory=folder, **options)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


class DaskProcesses:
    """`dask scheduler` and `dask worker` subprocesses on 127.0.0.1; stop() ends them all."""

    def __init__(self, folder, n_workers=2):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scheduler_file = self.folder / "scheduler.json"
        self.logs = []
        self.scheduler = self._start(
            "scheduler", "--host", LOCALHOST, "--port", "0", "--no-dashboard",
            "--dashboard-address", f"{LOCALHOST}:0", "--scheduler-file", self.scheduler_file,
        )
        self.workers = []
        try:
            deadline = time.monotonic() + 60
            while not self.scheduler_file.exists():
                self._check_alive(deadline)
            self.address = json.loads(self.scheduler_file.read_text())["address"]
            for _ in range(n_workers):
                self.workers.append(self._start(
                    "worker", self.address, "--nthreads", "1", "--host", LOCALHOST,
                    "--no-dashboard", "--dashboard-address", f"{LOCALHOST}:0",
                    "--local-directory", self.folder, "--name", f"w{len(self.workers)}",
                ))
            self.wait_for_workers(n_workers)
        except BaseException:
            self.stop()
            raise

    def _start(self, kind, *args):
        log = open(self.folder / f"{kind}-{len(self.logs)}.log", "w")  # noqa: SIM115
        self.logs.append(log)
        # the workers import the trial functions of the tests from here, as a user's
        # workers import the user's modules
        path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
        return subprocess.Popen([sys.executable, "-m", "dask", kind,
                                 *map(str, args)], stdout=log, stderr=subprocess.STDOUT,
                                env={**ENV, "PYTHONPATH": path}, cwd=self.folder)

    def _check_alive(self, deadline):
        for proc in [self.scheduler, *self.workers]:
            if proc.poll() is not None:
                raise RuntimeError(f"a dask process exited with {proc.returncode}:\n"
                                   f"{self.log_text()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dask processes did not start in time:\n{self.log_text()}")
        time.sleep(0.1)

    def wait_for_workers(self, n):
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=60)

    def log_text(self):
        return "\n".join(Path(log.name).read_text() for log in self.logs)

    def processes(self):
        """The psutil processes of the cluster: scheduler, workers and their children."""
        import psutil

        found = []
        for proc in [self.scheduler, *self.workers]:
            with contextlib.suppress(psutil.NoSuchProcess):  # already gone
                parent = psutil.Process(proc.pid)
                found += [parent, *parent.children(recursive=True)]
        return found

    def stop(self):
        import psutil

        procs = self.processes()
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _, alive = psutil.wait_procs(procs, timeout=10)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=10)
        for proc in [self.scheduler, *self.workers]:
            proc.wait(timeout=10)
        for log in self.logs:
            log.close()
