"""logs.py's and status.py's views of a deployed stack: they read and change nothing."""
