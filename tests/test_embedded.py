"""`python run.py --demo` on a "fresh machine": no environment, a new instance folder."""
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from helpers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = {k: v for k, v in os.environ.items()
         if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "FLASK_APP")}



@pytest.fixture()
def server(tmp_path):
    port = free_port()
    env = dict(CLEAN, INSTANCE_DIR=str(tmp_path / "instance"))
    log = open(tmp_path / "out.log", "w+")
    proc = subprocess.Popen([sys.executable, "run.py", "--demo", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    yield base, proc, log, tmp_path / "instance"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _output(log):
    log.flush()
    log.seek(0)
    return log.read()


def test_run_py_demo_serves_the_platform_with_embedded_redis(server):
    base, proc, log, instance = server
    assert proc.poll() is None, _output(log)
    with urllib.request.urlopen(base + "/healthz") as response:
        assert b'"redis":"ok"' in response.read().replace(b" ", b"")
    output = _output(log)
    password = re.search(r"Platform\s+platform\s+(\S+)", output).group(1)
    assert (instance / "platform.db").exists() and (instance / "secret_key").exists()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_page = opener.open(base + "/login/").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    form = urllib.parse.urlencode({"username": "platform", "password": password,
                                   "csrf_token": token}).encode()
    opener.open(base + "/login/", data=form)
    page = opener.open(base + "/needmodelview/list/").read().decode()
    assert "高精度MEMS压力传感器温漂补偿" in page  # a demo need, seen by the platform account
    with urllib.request.urlopen(base + "/") as response:
        assert "演示批次" in response.read().decode()


def test_run_py_refuses_a_bad_database_in_one_line(tmp_path):
    env = dict(CLEAN, INSTANCE_DIR=str(tmp_path), DATABASE_URL="mysql://nobody@nowhere/x")
    done = subprocess.run([sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "DATABASE_URL" in done.stderr


def test_run_py_refuses_an_unreachable_redis_in_one_line(tmp_path):
    env = dict(CLEAN, INSTANCE_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/0")
    done = subprocess.run([sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Redis" in lines[0]
    assert "Traceback" not in done.stderr
