"""The app as gunicorn serves it in production, plus one bare endpoint: the same-run baseline.

    gunicorn -w 2 'bench.serve:create_bench_app()'

``/bench/bare`` goes through everything every request of the app goes through (session, locale,
security headers, the user loader), and then answers a few bytes without touching the database
or a template. A page's throughput divided by this one's is what the page itself costs.
"""


def create_bench_app():
    from app import create_app

    app = create_app("config.ProductionConfig")

    @app.route("/bench/bare")
    def bare():
        return "ok"

    return app
