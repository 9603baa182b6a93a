"""Helpers for the tests of `mlpkit serve`: real servers started as subprocesses
(`python -m mlpkit serve MODEL --port N`) on 127.0.0.1, images made in memory."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

# one BLAS thread per process: tests run side by side on few cores
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
START_TIMEOUT = 60  # seconds for a server to answer /health
_STARTED = itertools.count()  # numbers the log files
ANNOUNCED = re.compile(r" at (http://127\.0\.0\.1:(\d+))/ ")  # its first line


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlpkit_cmd(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mlpkit", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=timeout)


class Server:
    """`python -m mlpkit serve MODEL --port N OPTIONS` in a subprocess, its output in a log file.

    `port`: a free one found here by default; 0 lets the server pick one. Either way the
    server's URL is the one it announces ("... at http://127.0.0.1:N/ ..."), then /health must
    answer 200."""

    def __init__(self, model, *options, log_dir, port=None):
        self._start("serve", str(model), *options, log_dir=log_dir, port=port)

    def _start(self, command, *args, log_dir, port=None):
        """`python -m mlpkit COMMAND ARGS --port N`, waited for until /health answers."""
        import httpx

        port = free_port() if port is None else port
        self.log_path = Path(log_dir) / f"{command}-{next(_STARTED)}.log"
        self._log = open(self.log_path, "w")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlpkit", command, *map(str, args), "--port", str(port)],
            stdout=self._log, stderr=subprocess.STDOUT, env=ENV,
        )
        self.port = self.url = None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"mlpkit {command} exited with {self.process.returncode}:\n"
                            f"{self.log()}")
            if self.url is None and (announced := ANNOUNCED.search(self.log())):
                self.url, self.port = announced[1], int(announced[2])
                assert port in (0, self.port), self.log()
            if self.url is not None:
                with contextlib.suppress(httpx.TransportError):  # not listening yet
                    if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                        break
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"mlpkit {command} did not answer /health in {START_TIMEOUT} s:\n"
                            f"{self.log()}")
            time.sleep(0.1)

    def log(self):
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self):
        """Terminate, wait, kill if it does not stop; returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()
        return self.process.returncode


def image_bytes(image, format="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def png_claiming(width, height):
    """A small PNG whose header claims width x height pixels (a decompression bomb's header)."""
    data = bytearray(image_bytes(Image.new("L", (8, 8))))
    data[16:24] = struct.pack(">II", width, height)  # IHDR: after the signature, length, type
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)
