"""The JSON API under /api/v1: one blueprint, one module per resource."""
from flask import Blueprint

from ..auth import guard_api_blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
guard_api_blueprint(bp)

from . import screenings, player, attendance, games, openapi  # noqa: E402,F401  (routes register on bp)
