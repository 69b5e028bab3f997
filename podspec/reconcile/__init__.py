"""The pure decisions: intent, diff, plan, deletion, pulls, readiness, status. No I/O."""
