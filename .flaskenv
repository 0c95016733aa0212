# Read by python-dotenv whenever `flask` runs: the CLI finds the app by itself. The embedded
# default (SQLite under instance/, a generated secret key); production sets FLASK_APP=run:app
# in its environment, which takes precedence over this file.
FLASK_APP=app.embedded:create_cli_app
