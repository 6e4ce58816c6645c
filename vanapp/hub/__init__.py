"""The coordinators' hub, as services: pairing vans (pairing.py), coordinator accounts (accounts.py),
receiving batches and USB bundles (receive.py, bundles.py), what a van pulls (pull.py), and the facts
and reports behind the dashboard (facts.py, reports.py, evidence.py, exports.py). Its pages and API
are vanapp/web/hub/; its commands vanapp/cli/hub*.py."""
