"""The coordinators' hub: pairing, receiving sync batches, dashboards (hub mode of the same package)."""
