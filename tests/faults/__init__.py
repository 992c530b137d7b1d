"""The fault suite. Its tests add their figures here; tests/conftest.py prints them in the summary."""

FIGURES: list[str] = []
