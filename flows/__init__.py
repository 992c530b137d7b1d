"""Orchestration: the reminder run (dispatch.py), the steps shared by every runner (jobs.py), reports
(reporting*.py, excel.py, charts.py), the Prefect flows (prefect_flows.py — the only module here that
imports Prefect) and the APScheduler runner (scheduler.py)."""
