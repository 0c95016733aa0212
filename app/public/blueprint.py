"""The public site's one blueprint (no FAB security: published needs, registration, the
notification links). Its pages are the modules of this package."""
from flask import Blueprint

bp = Blueprint("public", __name__)
