"""The web layer: blueprints by area (console, projector, audience, api/v1, hub) and their plumbing."""
