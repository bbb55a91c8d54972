"""``/healthz`` and the workers' heartbeat it reads."""
