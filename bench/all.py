"""Every benchmark on one generated database, in one command, with each one's peak memory.

    python -m bench.all --scale province [--database URL] [--reuse] [--seconds 10]
    python -m bench.all --scale national10x --database postgresql://postgres@127.0.0.1/bench

Loads the scale with ``bench.generate`` (``--reuse``: the database holds it already), then runs,
each in its own process so that its peak memory is its own: the need search, the public pages
under load, the back-office lists, the full re-match (with the scikit-learn reference only at
province scale: at 10x national it would run for hours) and its storing, a whole push round,
and the notification send rate. Prints each benchmark's own report, then a table of the wall
time and peak resident memory of each step (the largest process of the step: gunicorn's
workers are their own processes), which must stay within the machine's 24 GiB.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

MACHINE_MB = 24 * 1024


def _step(label, args, log):
    """Run ``python -m <args>``; its output goes to the terminal and the log. Returns the
    wall time and the peak resident memory (MB) of its largest process."""
    print(f"\n=== {label}: python -m {' '.join(args)}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for line in process.stdout:
        if "it/s]" in line or "rows/s]" in line or "needs/s]" in line:
            continue  # progress bars: the step's log keeps only its results
        sys.stdout.write(line)
        log.write(line)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024  # Linux: KiB


def main(argv=None):
    from .generate import SCALES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--database", default=None,
                        help="an empty database URL (default: a new SQLite file in /tmp)")
    parser.add_argument("--reuse", action="store_true",
                        help="the database holds the scale's data already: do not generate")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                        help="a scratch Redis database (it is flushed)")
    parser.add_argument("--seconds", type=int, default=10, help="load per page mix")
    args = parser.parse_args(argv)
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/{args.scale}.db"
    reference = [] if args.scale == "province" or args.scale == "tiny" else ["--no-reference"]
    steps = ([] if args.reuse else [("generate", ["bench.generate", "--scale", args.scale,
                                                  "--database", url])]) + [
        ("need search", ["bench.need_search", "--reuse", "--database", url]),
        ("public pages", ["bench.need_pages", "--reuse", "--database", url,
                          "--seconds", str(args.seconds)]),
        ("back-office lists", ["bench.staff_lists", "--reuse", "--database", url]),
        ("re-match", ["bench.matching", "--reuse", "--database", url, *reference]),
        ("push round", ["bench.fanout", "--round", "--database", url, "--redis", args.redis]),
        ("send rate", ["bench.fanout", "--redis", args.redis]),
        # Last: it adds a back-office backlog to the data.
        ("desks and inboxes", ["bench.desk", "--reuse", "--database", url, "--redis", args.redis,
                               "--seconds", str(args.seconds)]),
    ]
    summary = []
    with tempfile.NamedTemporaryFile("w", prefix="bench-", suffix=".log", delete=False) as log:
        for label, step in steps:
            summary.append((label, *_step(label, step, log)))
    print(f"\n{args.scale} on {url.split(':', 1)[0]}: wall time and peak memory per step "
          f"(the largest process)")
    print(f"{'step':<20}{'minutes':>9}{'peak MB':>10}{'of 24 GiB':>11}")
    for label, seconds, peak in summary:
        print(f"{label:<20}{seconds / 60:>9.1f}{peak:>10,.0f}{peak / MACHINE_MB:>11.1%}")
    print(f"the reports: {log.name}")


if __name__ == "__main__":
    main()
