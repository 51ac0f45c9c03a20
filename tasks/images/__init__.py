"""
The images the stack runs: upgrade.py pulls newer images for the configured tags and
records the images that ran before on the host, so a failed upgrade rolls itself back
and rollback.py can return to them.
"""
