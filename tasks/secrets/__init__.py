"""
The stack's secrets: where they come from, where they are kept, and the one rule that
protects the data: a secret is generated once per host and never regenerated behind the
user's back.
"""
