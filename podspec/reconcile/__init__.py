"""The pure decisions: intent, diff, plan, delete, pulls, readiness, status, ... No I/O.

Each module here that has an acting half shares its name with it in run/ (reconcile/pulls.py
decides what to pull, run/pulls.py pulls it; see run/__init__.py).
"""
