"""Run run.py as a user would, in a subprocess, with the test selectors importable."""

from __future__ import annotations

import os
import subprocess
import sys

from _paths import ROOT


def run_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT),
                                         env.get("PYTHONPATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    env["HYDRA_FULL_ERROR"] = "0"
    return env


def run_py(*args, timeout=300, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT,
                          env=run_env(), capture_output=True, text=True, timeout=timeout,
                          **popen)


def popen_py(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT,
                            env=run_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
