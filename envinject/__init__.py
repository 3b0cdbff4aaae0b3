"""envinject: inject AWS Secrets Manager secrets into a command's environment, then exec it."""

__version__ = "0.1.0"
