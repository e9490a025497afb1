"""Fuzzing of the readers and the table mapper (see fuzz/run.py). Not part of the installed package."""
