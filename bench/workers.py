"""Real ``flask worker`` processes for the benchmarks that split a job into blocks (the
re-match, the push round): started on a queue, stopped, and each one's peak memory (the
worker and the work-horses it forked, one per job, as in production)."""
import os
import re
import signal
import subprocess
import sys

WRAPPER = """
import resource, signal, subprocess, sys
signal.signal(signal.SIGTERM, lambda *_: None)  # the worker, in the same group, stops itself
code = subprocess.call(sys.argv[1:])
print("PEAK_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)
sys.exit(code)
"""


def start_workers(n_workers, env, logdir, name, queue="matching"):
    """``n_workers`` workers of ``queue``, each logging to ``<logdir>/<name>-worker<i>.log``."""
    workers = []
    for i in range(n_workers):
        log = open(os.path.join(logdir, f"{name}-worker{i}.log"), "w")
        process = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, sys.executable, "-m", "flask", "--app",
             "app.embedded:create_cli_app", "worker", queue],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        workers.append((process, log))
    return workers


def stop_workers(workers) -> list[tuple[float, str]]:
    """Stop the workers; (peak MB, log text) of each."""
    for process, _log in workers:
        os.killpg(process.pid, signal.SIGTERM)
    for process, _log in workers:
        process.wait(120)
    result = []
    for _process, log in workers:
        log.close()
        with open(log.name, encoding="utf-8") as file:
            text = file.read()
        result.append((int(re.findall(r"PEAK_KB (\d+)", text)[-1]) / 1024, text))
    return result
