#!/usr/bin/env python3
"""Smoke test of the deployment: the image alone, then the compose stack (PostgreSQL, two app
replicas, nginx).  Standard library only; run from anywhere, as a user who may run docker:

    python3 deploy/offline/smoke.py [--env-file FILE] [--compose docker-compose|"docker compose"]

--env-file: the variables deploy/offline/build-images.sh printed (STANDARD_LAND_IMAGE,
POSTGRES_IMAGE, NGINX_IMAGE); without it the images named in the environment, else compose.yaml's
defaults (the public images).  The images must exist: nothing is built or pulled here.

It runs the compose commands README "Deploying" shows, in a compose project of its own
(COMPOSE_PROJECT_NAME=standard-land-smoke, removed at the end with `down -v`), and sends its own
requests only to ports it publishes on 127.0.0.1.  Exit status 0 when every step passed.

  1. the image alone (`docker run`, SQLite on its volume): uid 10001, read-only root file system
     except the volume and /tmp, /healthz 200; time from `docker run` to healthy
  2. `up -d db`; `run --rm app standard-land keys create` (officer, auditor); `up -d` in production
     mode; /healthz 200 through nginx; time to healthy
  3. proposal checks through nginx: both replicas answer (each one's log names request ids sent)
  4. a proposal batch with a batch_id; the replica holding its transaction is killed mid-batch;
     the batch is retried (stored once), retried again (replayed), and the decision chain verifies
     (`run --rm app standard-land decisions verify`, and GET /v1/decisions/verify with the auditor key)
  5. `down -v`
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
PROJECT = "standard-land-smoke"
BATCH_ITEMS = 10_000


def say(msg: str) -> None:
    print(f"== {msg}", flush=True)


def fail(msg: str) -> None:
    raise SystemExit(f"SMOKE FAILED: {msg}")


def run(cmd: list[str], *, env: dict | None = None, check: bool = True, quiet: bool = False,
        timeout: float = 600) -> subprocess.CompletedProcess:
    if not quiet:
        print("$ " + shlex.join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        fail(f"{shlex.join(cmd)} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: object | None = None, headers: dict | None = None,
         timeout: float = 300) -> tuple[int, dict, bytes]:
    assert url.startswith("http://127.0.0.1:"), url      # only ports published on loopback
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        **({"content-type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_healthy(url: str, timeout: float, what: str) -> float:
    """Seconds until GET url answers 200."""
    t0 = time.monotonic()
    last = ""
    while time.monotonic() - t0 < timeout:
        try:
            status, _, body = http("GET", url, timeout=5)
            if status == 200:
                return time.monotonic() - t0
            last = f"{status} {body[:200]!r}"
        except OSError as e:
            last = repr(e)
        time.sleep(0.25)
    fail(f"{what}: no 200 from {url} within {timeout:.0f} s (last: {last})")
    raise AssertionError


def proposal(i: int) -> dict:
    """A Sanmenxia proposal (README "Checking a proposal"); i varies the investment."""
    return {
        "as_of": "2024-03-01", "jurisdiction": "411200",
        "industry": {"code": "32", "classification": "GB/T 4754-2017"},
        "land_area": {"value": 90, "unit": "亩"},
        "measures": {"fixed_asset_investment": {"value": 19000 + i % 2000, "unit": "万元"},
                     "annual_tax": {"value": 1400, "unit": "万元"},
                     "building_footprint": {"value": 27000, "unit": "m2"},
                     "green_area": {"value": 6000, "unit": "m2"},
                     "admin_floor_area": {"value": 3000, "unit": "m2"},
                     "floors": [{"area": {"value": 24000, "unit": "m2"}, "height": {"value": 12, "unit": "m"},
                                 "count": 1}]},
        "indicators": {"environment_attested": {"value": True},
                       "construction_conditions_attested": {"value": True}},
    }


class Smoke:
    def __init__(self, compose: list[str], env: dict[str, str]) -> None:
        self.compose = compose
        self.env = env
        self.figures: dict[str, str] = {}

    def dc(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        return run([*self.compose, *args], env=self.env, check=check, timeout=timeout)

    def docker(self, *args: str, check: bool = True, quiet: bool = True) -> subprocess.CompletedProcess:
        return run([DOCKER, *args], check=check, quiet=quiet)

    # ------------------------------------------------------------------ 1. the image alone
    def image_alone(self) -> None:
        image = self.env.get("STANDARD_LAND_IMAGE", "standard-land:local")
        say(f"1. the image alone: {image}, read-only root, volume for SQLite, /tmp a tmpfs")
        port = free_port()
        name, volume = f"{PROJECT}-single", f"{PROJECT}-single-var"
        self.docker("rm", "-f", name, check=False)
        self.docker("volume", "rm", "-f", volume, check=False)
        t0 = time.monotonic()
        run([DOCKER, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp",
             "-v", f"{volume}:/srv/standard-land/var", "-p", f"127.0.0.1:{port}:8000", image])
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", 180, "the image alone")
            self.figures["image alone: docker run → /healthz 200"] = f"{time.monotonic() - t0:.1f} s"
            uid = self.docker("exec", name, "id", "-u").stdout.strip()
            if uid != "10001":
                fail(f"the image runs as uid {uid}, not 10001")
            inspect = json.loads(self.docker("inspect", name).stdout)[0]
            if not inspect["HostConfig"]["ReadonlyRootfs"]:
                fail("the root file system is writable")
            for path in ("/srv/standard-land/probe", "/opt/probe", "/home/probe"):
                if self.docker("exec", name, "touch", path, check=False).returncode == 0:
                    fail(f"could write {path} on the read-only root")
            for path in ("/srv/standard-land/var/probe", "/tmp/probe"):
                self.docker("exec", name, "touch", path)
            files = self.docker("exec", name, "ls", "/srv/standard-land/var", "/tmp/standard-land-metrics").stdout
            if "standard-land.db" not in files or ".db" not in files.split("standard-land-metrics:")[-1]:
                fail(f"expected the SQLite file on the volume and metrics files in /tmp:\n{files}")
            print(f"   uid 10001, read-only root; writable: the volume and /tmp; healthy in "
                  f"{self.figures['image alone: docker run → /healthz 200']}")
        finally:
            logs = self.docker("logs", name, check=False)
            if "Traceback" in logs.stderr + logs.stdout:
                print(logs.stdout[-3000:], logs.stderr[-3000:])
            self.docker("rm", "-f", name, check=False)
            self.docker("volume", "rm", "-f", volume, check=False)

    # ------------------------------------------------------------------ 2. the stack
    def container_ids(self, service: str) -> list[str]:
        return self.dc("ps", "-q", service).stdout.split()

    def wait_container_healthy(self, cid: str, timeout: float) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            state = self.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", cid).stdout.split()
            if state[-1] == "healthy":
                return
            if state[0] in ("exited", "dead"):
                break
            time.sleep(1)
        fail(f"container {cid[:12]} not healthy: {self.docker('logs', '--tail', '40', cid, check=False).stderr}")

    def create_key(self, role: str, *extra: str) -> str:
        p = self.dc("run", "--rm", "-T", "app", "standard-land", "keys", "create", "--role", role, *extra,
                    "--label", f"smoke {role}")
        keys = [line for line in p.stdout.split() if line.startswith("sl_")]
        if len(keys) != 1:
            fail(f"keys create printed no key:\n{p.stdout}\n{p.stderr}")
        print(f"   {role} key {keys[0][:16]}… (printed once)")
        return keys[0]

    def stack(self) -> None:
        say("2. the compose stack: keys first, then production mode")
        self.dc("down", "-v", "--remove-orphans", check=False)
        self.dc("up", "-d", "db")
        [db] = self.container_ids("db")
        self.wait_container_healthy(db, 180)
        self.db = db
        self.officer = self.create_key("officer", "--jurisdiction", "411200")
        self.auditor = self.create_key("auditor")
        t0 = time.monotonic()
        self.dc("up", "-d")       # waits for the replicas' health checks before starting nginx
        self.base = f"http://127.0.0.1:{self.env['PORT']}"
        wait_healthy(f"{self.base}/healthz", 240, "the stack")
        self.figures["compose: up -d → /healthz 200 through nginx"] = f"{time.monotonic() - t0:.1f} s"
        self.apps = self.container_ids("app")
        if len(self.apps) != 2:
            fail(f"expected 2 app replicas, found {len(self.apps)}")
        for cid in self.apps:
            inspect = json.loads(self.docker("inspect", cid).stdout)[0]
            uid = self.docker("exec", cid, "id", "-u").stdout.strip()
            if uid != "10001" or not inspect["HostConfig"]["ReadonlyRootfs"]:
                fail(f"replica {cid[:12]}: uid {uid}, read-only root {inspect['HostConfig']['ReadonlyRootfs']}")
        status, _, body = http("GET", f"{self.base}/healthz")
        print(f"   /healthz through nginx: {status} {body[:120].decode()}…  "
              f"({self.figures['compose: up -d → /healthz 200 through nginx']})")
        status, _, _ = http("POST", f"{self.base}/v1/checks/proposal", proposal(0))
        if status != 401:
            fail(f"production mode: a check without a key answered {status}, not 401")

    # ------------------------------------------------------------------ 3. both replicas answer
    def both_replicas(self) -> None:
        say("3. proposal checks through nginx, answered by each replica")
        ids = [f"smoke-check-{i}-{os.getpid()}" for i in range(12)]
        self.decisions = 0
        for i, rid in enumerate(ids):
            status, headers, body = http("POST", f"{self.base}/v1/checks/proposal", proposal(i),
                                         {"Authorization": f"Bearer {self.officer}", "X-Request-ID": rid})
            if status != 200 or "decision_id" not in json.loads(body):
                fail(f"proposal check {i}: {status} {body[:300]!r}")
            self.decisions += 1
        seen = {}
        for cid in self.apps:
            logs = self.docker("logs", cid).stderr + self.docker("logs", cid).stdout
            seen[cid[:12]] = sum(rid in logs for rid in ids)
        print(f"   request ids in each replica's log: {seen}")
        if len(seen) != 2 or min(seen.values()) == 0 or sum(seen.values()) != len(ids):
            fail(f"expected both replicas to answer and every check to be logged once: {seen}")

    # ------------------------------------------------------------------ 4. killed mid-batch
    def busy_replica(self, timeout: float) -> str | None:
        """The app container holding an open transaction (the batch's), by its address in
        pg_stat_activity; seen twice in a row so that a health check's query does not count."""
        addresses = {}
        for cid in self.apps:
            ip = self.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                             cid).stdout.strip()
            addresses[ip] = cid
        sql = ("select distinct host(client_addr) from pg_stat_activity where datname = current_database() "
               "and client_addr is not null and pid <> pg_backend_pid() "
               "and state in ('active', 'idle in transaction') and now() - xact_start > interval '200 ms'")
        t0 = time.monotonic()
        previous: set[str] = set()
        while time.monotonic() - t0 < timeout:
            p = self.docker("exec", self.db, "psql", "-U", "standard_land", "-d", "standard_land", "-Atc", sql,
                            check=False)
            now = set(p.stdout.split()) & set(addresses)
            both = now & previous
            if len(both) == 1:
                return addresses[both.pop()]
            previous = now
            time.sleep(0.1)
        return None

    def killed_mid_batch(self) -> None:
        say(f"4. a {BATCH_ITEMS:,}-item batch; the replica running it is killed mid-batch; the batch is retried")
        batch = {"batch_id": f"smoke-batch-{os.getpid()}", "items": [proposal(i) for i in range(BATCH_ITEMS)]}
        auth = {"Authorization": f"Bearer {self.officer}"}
        result: dict = {}

        def post() -> None:
            try:
                result["status"], _, result["body"] = http("POST", f"{self.base}/v1/checks/proposal:batch", batch, auth)
            except OSError as e:
                result["error"] = repr(e)

        sender = threading.Thread(target=post)
        t0 = time.monotonic()
        sender.start()
        victim = self.busy_replica(timeout=120)
        if victim is None:
            sender.join()
            fail(f"no replica seen holding the batch's transaction (result: {result.get('status')})")
        if "status" in result:
            fail(f"the batch finished ({result['status']}) before the kill: make it larger")
        self.docker("kill", victim)
        print(f"   killed replica {victim[:12]} {time.monotonic() - t0:.1f} s into the batch")
        sender.join(300)
        first = result.get("status", result.get("error"))
        if first == 200:
            fail("the batch was answered 200 although its replica was killed")
        print(f"   the interrupted request got {first} (nginx does not replay a POST on the other replica)")
        status, _, body = http("POST", f"{self.base}/v1/checks/proposal:batch", batch, auth)
        doc = json.loads(body) if status == 200 else {}
        if status != 200 or doc.get("count") != BATCH_ITEMS or doc.get("replayed") is not False:
            fail(f"retry: {status} count {doc.get('count')} replayed {doc.get('replayed')} {body[:300]!r}")
        status, _, body = http("POST", f"{self.base}/v1/checks/proposal:batch", batch, auth)
        doc2 = json.loads(body) if status == 200 else {}
        if status != 200 or doc2.get("replayed") is not True or \
                [i["decision_id"] for i in doc2["items"]] != [i["decision_id"] for i in doc["items"]]:
            fail(f"second retry: {status} replayed {doc2.get('replayed')}")
        self.decisions += BATCH_ITEMS
        print(f"   retry stored {doc['count']:,} decisions once (replayed: false); again: replayed: true, same ids")
        p = self.dc("run", "--rm", "-T", "app", "standard-land", "decisions", "verify")
        report = json.loads(p.stdout)
        status, _, body = http("GET", f"{self.base}/v1/decisions/verify", headers={"Authorization": f"Bearer {self.auditor}"})
        api = json.loads(body) if status == 200 else {}
        print(f"   decisions verify: {json.dumps(report, ensure_ascii=False)[:200]}")
        if not report.get("ok") or not api.get("ok"):
            fail(f"the decision chain does not verify: CLI {report}, API {status} {body[:300]!r}")
        if report.get("checked") != self.decisions:
            fail(f"the chain holds {report.get('checked')} decisions, expected {self.decisions} "
                 "(12 checks + the batch once)")

    def down(self) -> None:
        say("5. down -v")
        self.dc("down", "-v", "--remove-orphans", check=False)


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env-file", type=Path, help="image variables printed by build-images.sh")
    ap.add_argument("--compose", default="docker-compose", help='"docker-compose" (v1) or "docker compose" (v2)')
    ap.add_argument("--keep", action="store_true", help="leave the stack running (debugging)")
    args = ap.parse_args()

    env = dict(os.environ)
    if args.env_file:
        env.update(read_env_file(args.env_file))
    # The smoke project's own name, port and mode: an operator's stack in this directory is left alone.
    env.update({"COMPOSE_PROJECT_NAME": PROJECT, "LB_ADDRESS": "127.0.0.1", "PORT": str(free_port()),
                "STANDARD_LAND_ENV": "production", "DOCKER_BUILDKIT": "1"})
    env.setdefault("POSTGRES_PASSWORD", "smoke-" + os.urandom(6).hex())
    smoke = Smoke(shlex.split(args.compose), env)
    t0 = time.monotonic()
    try:
        smoke.image_alone()
        smoke.stack()
        smoke.both_replicas()
        smoke.killed_mid_batch()
    except BaseException:
        if "base" in vars(smoke):
            print(smoke.dc("logs", "--tail", "60", check=False).stdout[-8000:])
        raise
    finally:
        if not args.keep:
            smoke.down()
    say(f"smoke test passed in {time.monotonic() - t0:.0f} s")
    for k, v in smoke.figures.items():
        print(f"   {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
