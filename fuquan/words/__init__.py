"""Text: normalisation, and everything written for people (messages, report text, sheet headers)."""
