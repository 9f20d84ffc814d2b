"""Enphase Enlighten: the request-budget planner (and later runtime, coordinators, entities)."""
