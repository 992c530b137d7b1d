"""Side effects that reach people: the Notifier interface and its channels (console/file, Slack, robot webhooks).

Imports the core only; never `models/` or `flows/`. Filled in by the reminders work (issue 5).
"""
