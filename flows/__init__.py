"""Orchestration (Prefect flows) and the `gongkai` command line."""
