"""The image's start-up, without Docker: the Dockerfile's CMD run as a subprocess with the
runtime stage's ENV values, in a fresh empty working directory, with the directories the image
would start without (its PROMETHEUS_MULTIPROC_DIR under an empty /tmp) not existing yet.

The image once crashed at import of the metrics module (FileNotFoundError for histogram_1.db:
PROMETHEUS_MULTIPROC_DIR named a folder that did not exist).  The compose smoke test
(deploy/offline/smoke.py) runs the real image; this catches the same class of fault in the suite.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _instructions(stage: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of one build stage, continuation lines joined, comments dropped."""
    lines: list[str] = []
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + raw.strip()
        else:
            lines.append(raw.strip())
    out: list[tuple[str, str]] = []
    current = None
    for line in filter(None, lines):
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            current = rest.split()[-1] if " AS " in rest.upper() else None
            continue
        if current == stage:
            out.append((word, rest.strip()))
    return out


def _image_env(stage: str = "runtime") -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in _instructions(stage):
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _json_command(word: str, stage: str = "runtime") -> list[str]:
    [args] = [rest for w, rest in _instructions(stage) if w == word]
    if word == "HEALTHCHECK":
        args = args[args.index("CMD") + len("CMD"):].strip()
    return json.loads(args)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_image_cmd_starts_with_the_image_env_and_answers_healthz(tmp_path):
    env_image = _image_env()
    cmd = _json_command("CMD")
    # The image's own values, except where the image's paths do not exist on this machine:
    # the working directory and volume (/srv/standard-land, var/) and /tmp, all fresh here.
    assert env_image["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert env_image["DATABASE_URL"].startswith("sqlite:////srv/standard-land/var/")
    workdir = tmp_path / "srv" / "standard-land"
    (workdir / "var").mkdir(parents=True)
    metrics_dir = tmp_path / "tmp" / env_image["PROMETHEUS_MULTIPROC_DIR"].removeprefix("/tmp/")
    assert not metrics_dir.exists() and not metrics_dir.parent.exists()
    port = _free_port()
    env = {
        **env_image,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(workdir),
        "TMPDIR": str(tmp_path / "tmp"),
        "DATABASE_URL": env_image["DATABASE_URL"].replace("/srv/standard-land", str(workdir)),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    assert cmd[:2] == ["sh", "-c"] and "--host 0.0.0.0 --port 8000" in cmd[2], cmd
    cmd = [*cmd[:2], cmd[2].replace("--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {port}")]
    log = (tmp_path / "server.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.25)
        log.seek(0)
        assert status == 200, f"no 200 from /healthz (exit {proc.poll()}):\n{log.read()[-4000:]}"
        assert json.loads(body)["status"] == "ok"
        # The image's HEALTHCHECK command, pointed at this port, agrees.
        probe = [a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in _json_command("HEALTHCHECK")]
        assert subprocess.run(probe, env=env, cwd=workdir, timeout=30).returncode == 0
        # Every worker writes its samples to the directory the image names; /metrics sums them.
        status, text = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert re.search(rb'^standard_land_http_requests_total\{[^}]*route="/healthz"[^}]*\} [1-9]', text, re.M), \
            text[:2000]
        assert list(metrics_dir.glob("*.db"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        log.close()
    # `exec` in the CMD: the server itself gets SIGTERM and stops cleanly.
    assert code == 0
