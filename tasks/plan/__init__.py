"""
What deploy.py will change, decided once: the whole host read in one round trip, then
one work item per part (engine, firewall, stack) in the same shape. A part with nothing
to do gets one no-change operation; a part with work gets its detailed operations,
which read the host again when they run. The plan also says whether the run changes
anything at all, and so whether it needs the deploy lock.
"""

from tasks.plan.decide import DeployPlan, decide_deploy, plan_deploy

__all__ = ["DeployPlan", "decide_deploy", "plan_deploy"]
