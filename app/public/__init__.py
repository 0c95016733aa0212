"""The thin public site: home page, the need list and pages, registration, the forgotten
password, the tracking link.

Every page module adds its routes to ``bp`` (``app/public/blueprint.py``); importing them here is
what puts them on it before ``create_app`` registers the blueprint.
"""
from app.public import (  # noqa: F401  the pages of ``bp``
    errors,
    needs,
    password_reset,
    publicity,
    registration,
    site,
    tracking,
    verify,
)
from app.public.blueprint import bp  # noqa: F401
