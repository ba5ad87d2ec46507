"""Blueprints: admin (organisers), preferences (members), api (v1), webhooks (gateways)."""
