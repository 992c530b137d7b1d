"""Time as officials write it: the deadline grammar, calendars and working days."""
