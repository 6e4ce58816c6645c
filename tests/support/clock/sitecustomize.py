"""Run the suite on another calendar date: `make test TEST_NOW="2027-08-15 19:30+05:30"`.

pytest, and every `vanapp` process a test starts, inherits PYTHONPATH with this folder on it, so
each Python process runs with its wall clock moved by the same amount: the first one works out
how far TEST_NOW is from the real time and hands that shift on, so a server restarted mid-test
does not go back in time. The monotonic clock, the browser and PostgreSQL keep the real time.
Nothing happens without VANAPP_TEST_NOW.
"""
import os

if os.environ.get("VANAPP_TEST_NOW"):
    import datetime as _dt
    import time as _time

    import time_machine

    _shift = os.environ.get("VANAPP_TEST_CLOCK_SHIFT")
    if _shift is None:
        _target = _dt.datetime.fromisoformat(os.environ["VANAPP_TEST_NOW"].replace(" +", "+"))
        if _target.tzinfo is None:
            raise SystemExit("VANAPP_TEST_NOW needs a UTC offset, e.g. 2027-08-15 19:30+05:30")
        _shift = str(_target.timestamp() - _time.time())
        os.environ["VANAPP_TEST_CLOCK_SHIFT"] = _shift
    _traveller = time_machine.travel(_time.time() + float(_shift), tick=True)
    _traveller.start()
    # time-machine starts ticking at the first reading, not at start(): read it now, or each
    # process would lag by its own import time (a server a second behind another refuses the
    # other's fresh session cookie as signed in the future)
    _time.time()
