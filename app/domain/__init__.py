"""The rules of the platform, one package per part of the notice's chain; views, jobs and CLI commands call them."""
