"""
Consistent dumps of the stack's databases, kept on the host and downloaded with a
checksum; and loading such a dump back.

A dump holds every database except MySQL's own (mysql, sys, information_schema,
performance_schema): restoring one therefore never changes users or passwords, so the
stack's credentials keep working.
"""
