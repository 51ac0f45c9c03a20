"""This machine: `pyinfra inventories/local.py deploy.py`. Runs as the current user (root)."""

local = ["@local"]
