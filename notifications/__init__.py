"""Side effects that reach people: the Notifier interface (base.py) and its channels — console/file
(console.py), Slack (slack.py), DingTalk and WeCom robots (webhooks.py) — and which one carries a
destination (router.py). Imports the core only; never `models/` or `flows/`."""
