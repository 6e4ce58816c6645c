"""Defaults and the environment: every setting VanKit reads, in one place."""
import os
from pathlib import Path

# name -> (default, help). README's settings table is generated from this.
SETTINGS = {
    "VANAPP_DATA_DIR": ("./instance", "Database, logs, compiled translations, secrets."),
    "VANAPP_MEDIA_DIR": ("./media", "The PSA library and game content the van carries."),
    "VANAPP_SCHEDULES_DIR": ("./schedules", "Tour files loaded by `make run`."),
    "VANAPP_DATABASE_URL": ("", "Database URL; empty means SQLite `vanapp.db` in the data dir. "
                            "`postgresql://user@host:port/db` for the hub."),
    "VANAPP_MODE": ("van", "`van` for the van's laptop, `hub` for the coordinators' hub."),
    "VANAPP_VLC_ARGS": ("", "Extra libvlc options, e.g. `--vout=dummy --aout=dummy` for tests."),
    "VANAPP_PUBLIC_URL": ("", "Address phones use to join games; when empty, an address `vanapp serve` "
                          "listens on (the laptop's LAN address when it listens on every interface). "
                          "Checked once serving: Run and Games warn when it does not answer."),
    "VANAPP_TIMEZONE": ("Asia/Kolkata", "Local time zone of tours and screens."),
    "VANAPP_SECRET_KEY": ("", "Session signing key; generated and kept in the data dir when empty."),
    "VANAPP_SYNC_INTERVAL": ("300", "Van: seconds between automatic syncs while `vanapp serve` runs and the van is "
                             "paired (records waiting go within a minute, the first time a minute after the server "
                             "starts or the van is paired; backs off up to 15 min while the hub is unreachable). "
                             "`0` turns automatic sync off."),
}


def from_environment(environ=None) -> dict:
    environ = os.environ if environ is None else environ
    config = {}
    for name, (default, _help) in SETTINGS.items():
        config[name.removeprefix("VANAPP_")] = environ.get(name, default)
    config["DATA_DIR"] = str(Path(config["DATA_DIR"]).resolve())
    config["MEDIA_DIR"] = str(Path(config["MEDIA_DIR"]).resolve())
    config["SCHEDULES_DIR"] = str(Path(config["SCHEDULES_DIR"]).resolve())
    return config
