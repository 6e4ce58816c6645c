"""Hub mode's blueprints: the van-facing sync API (api.py), the coordinators' login (auth.py) and
their pages (dashboard.py, with charts.py); errors render in the hub's own frame (hub/error.html)."""
