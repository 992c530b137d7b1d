"""fuquan core: the plan, the deadline language, calendars and status rules. Pure: no I/O but reading the plan file."""

__version__ = "0.1.0"
