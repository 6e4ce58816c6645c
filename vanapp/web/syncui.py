"""Crew pages for this area (filled in by its issue)."""
from flask import Blueprint

from .auth import guard_crew_blueprint

bp = Blueprint("syncui", __name__)
guard_crew_blueprint(bp)
