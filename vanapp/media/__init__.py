"""The media library: the catalogue (catalog.py), scanning files for checksum, length and playability
through libVLC (scan.py, probe.py), and the pre-flight check before the van leaves (preflight.py)."""
