"""The van's disk as the web sees it: a full disk answered in words (507, code disk_full) instead
of a 500, and `vanapp serve`'s backups (after each Finish, once a day) started and woken.

On a full disk SQLite refuses the write and rolls it back: nothing half-written, nothing that
was acknowledged lost. The phone keeps the tap it could not save and sends it again; once space
is freed the next try is stored, with no restart."""
import logging
import sqlite3
import time

from flask import current_app, render_template, request
from flask_babel import gettext as _
from peewee import OperationalError

from .. import backup, parts
from .. import db as database
from .errors import json_error, wants_json

log = logging.getLogger(__name__)
FINISH_ENDPOINTS = {"api.screening_finish"}
_last_warned = [0.0]


def disk_full_message() -> str:
    return _("The laptop's disk is full, so nothing new can be saved. Everything already shown as "
             "saved is safe. Free some space (delete old videos or copies), then try again.")


def _disk_full(exc):
    if not backup.is_disk_full(exc):
        handler = current_app.error_handler_spec[None][None].get(Exception)
        if handler is None:
            raise exc
        return handler(exc)
    if time.monotonic() - _last_warned[0] > 60:       # not one log line per refused tap
        _last_warned[0] = time.monotonic()
        log.warning("disk full: refused %s %s", request.method, request.path)
    if wants_json():
        return json_error(507, "disk_full", "The laptop's disk is full: nothing new can be saved until "
                          "space is freed. What was acknowledged is safe; send it again later.")
    template = "hub/error.html" if current_app.config.get("MODE") == "hub" else "error.html"
    return render_template(template, status=507, message=disk_full_message()), 507


def runner_for(app) -> "backup.BackupRunner | None":
    return app.extensions.get("vanapp_backup")


def init_app(app):
    app.register_error_handler(OperationalError, _disk_full)
    app.register_error_handler(sqlite3.OperationalError, _disk_full)
    if app.config.get("MODE") == "hub":
        return

    def _start_backups(app):
        path = database.sqlite_file()
        if path is None:
            return
        runner = app.extensions["vanapp_backup"] = backup.BackupRunner(app.config["DATA_DIR"], path)
        runner.start()

    def _stop_backups(app):
        runner = runner_for(app)
        if runner is not None:
            runner.stop()
    parts.register(app, start=_start_backups, stop=_stop_backups)

    @app.after_request
    def _after_finish(response):
        if request.endpoint in FINISH_ENDPOINTS and response.status_code < 300:
            runner = runner_for(current_app)
            if runner is not None:
                runner.wake()       # the night's copy now, not at the next look
        return response
