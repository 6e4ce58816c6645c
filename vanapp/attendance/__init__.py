"""Counting the audience: tally taps and headcounts (tally.py), sign-in with consent (participants.py)
and what a night added up to (report.py)."""
