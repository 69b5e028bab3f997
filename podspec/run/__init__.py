"""Workflows: what each command does, as plain functions over an engine. No typer.

Pure and acting halves share one name: the rules in reconcile/NAME.py (pure, no I/O), the engine
calls they ask for in run/NAME.py: delete, history, pulls, readiness, rootless, saved_plan, status.
diff and apply, the two commands that reconcile, are run/apply.py.
"""

# How many pods the workflows change side by side by default (apply, delete, start and stop,
# rollback, the agent; `--parallel`; each pod's steps stay in order). Here, not in plan.py: the CLI's
# options read it at every start, and the plan's vocabulary is for the commands that plan.
# A pod's start is nearly all Podman's and the kernel's (conmon, runc, netavark), and much of it
# waiting: on 2 cores, 40 pods from empty took 19-21 s with 6 at once against 29-44 s with 3
# (bench/profile_apply.py, bench/README.md issue 29).
PODS_AT_ONCE = 6
