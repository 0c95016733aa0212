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


def _children(pid) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _alive(pid) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def _ended(pids, within=15) -> bool:
    deadline = time.time() + within
    while time.time() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.2)
    return False


def test_a_fresh_instance_is_readable_by_its_owner_only(server):
    _base, proc, log, instance = server
    assert proc.poll() is None, _output(log)
    assert os.stat(instance).st_mode & 0o777 == 0o700
    for folder, folders, files in os.walk(instance):
        for name in folders:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o700, name
        for name in files:
            mode = os.stat(os.path.join(folder, name)).st_mode
            assert mode & 0o077 == 0, (name, oct(mode))  # nothing for group or others


def test_the_worker_and_redis_end_with_run_py_even_if_it_is_killed(server):
    _base, proc, log, _instance = server
    assert proc.poll() is None, _output(log)
    children = _children(proc.pid)
    assert len(children) == 2, _output(log)  # the bundled Redis and the worker
    proc.kill()  # no chance to clean up: SIGKILL, or the terminal's process killed
    proc.wait(10)
    assert _ended(children), [p for p in children if _alive(p)]


def test_ctrl_c_stops_the_worker_then_redis_without_tracebacks(server):
    _base, proc, log, _instance = server
    assert proc.poll() is None, _output(log)
    children = _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(40) == 0
    assert _ended(children)
    output = _output(log)
    assert "Traceback" not in output
    # The worker was stopped while Redis still answered it: no lost connection in its output.
    assert "Connection refused" not in output and "Error 111" not in output
    assert "ConnectionError" not in output and "No such file or directory" not in output


def test_create_admin_with_a_weak_password_prints_the_rule(tmp_path):
    env = dict(CLEAN, INSTANCE_DIR=str(tmp_path / "instance"))
    for command in (["db", "upgrade"], ["init-roles"]):
        assert subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env,
                              capture_output=True, timeout=120).returncode == 0
    done = subprocess.run([sys.executable, "-m", "flask", "fab", "create-admin", "--username",
                           "admin", "--firstname", "A", "--lastname", "B", "--email",
                           "admin@example.cn", "--password", "weak"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "10" in done.stdout + done.stderr  # the rule: at least 10 characters ...
