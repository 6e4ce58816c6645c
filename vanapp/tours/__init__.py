"""Tours and schedules: import tour files, query screenings, reschedule and cancel, export .ics."""
