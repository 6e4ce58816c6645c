"""`python -m vanapp.cli ...`: the `vanapp` command (tests and benchmarks start it this way)."""
from . import main

main()
