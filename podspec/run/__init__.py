"""Workflows: what each command does, as plain functions over an engine. No typer.

Pure and acting halves share one name: the rules in reconcile/NAME.py (pure, no I/O), the engine
calls they ask for in run/NAME.py: delete, history, pulls, readiness, rootless, saved_plan, status.
diff and apply, the two commands that reconcile, are run/apply.py.
"""
