"""Settings for the whole suite."""

from hypothesis import HealthCheck, settings

# The suite runs on several workers on a small machine: how fast Hypothesis generates data, and how long one
# example takes, depend on the load, not on the code. What each property asserts does not change.
settings.register_profile(
    "suite", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("suite")
