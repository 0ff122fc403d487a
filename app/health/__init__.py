"""Liveness and readiness for load balancers: GET /healthz and GET /readyz."""
