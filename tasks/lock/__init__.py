"""
A deploy lock on each host, so two runs cannot interleave.

Every deploy file that changes the host takes it first and gives it back last. Taking
it is atomic (`mkdir`) and records who holds it and since when; a second run fails fast
naming the holder. A lock left by a run that died is broken automatically when the dead
run was on this machine (its process is gone); any other lock only with
`prisma_lock_break = true`. Holding a lock is not a change to the host, so these
operations report no change.
"""
