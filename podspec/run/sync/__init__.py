"""`podspec sync`: the pull agent (see agent.py)."""
