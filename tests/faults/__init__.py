"""A fault-injecting HTTP proxy that stands in front of a local moto_server (loopback only)."""

from tests.faults.proxy import FAULTS, Counts, FaultPlan, FaultProxy

__all__ = ["FAULTS", "Counts", "FaultPlan", "FaultProxy"]
