"""A real `vanapp serve` in a subprocess on 127.0.0.1, for tests that talk HTTP or kill it."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`vanapp serve` (or `vanapp hub serve`) with its own data dir; start, kill -9, restart."""

    def __init__(self, data_dir, env=None, args=("serve",), port=None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update({"VANAPP_DATA_DIR": str(self.data_dir),
                         "VANAPP_MEDIA_DIR": self.env.get("VANAPP_MEDIA_DIR", str(ROOT / "media"))})
        self.env.update(env or {})
        self.proc = None
        self.log_path = self.data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20.0):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vanapp.cli", *self.args, "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /healthz within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self):
        """SIGKILL: no clean-up, no flush — the power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def restart(self):
        self.stop()
        return self.start()
