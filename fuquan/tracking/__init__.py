"""Judging every share as of a day: states, the ledger, roll-ups, reminders due, scores, value checks."""
