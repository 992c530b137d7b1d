"""Prefect flows: thin recipes over the core, models and notifications. The only package that imports Prefect."""
