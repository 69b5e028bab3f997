"""Workflows: what each command does, as plain functions over an engine. No typer."""
