"""Business metrics: message volume, rooms, registrations and active users, for Prometheus."""

from hearth.synapse_modules.business_metrics.module import BusinessMetricsModule

__all__ = ["BusinessMetricsModule"]
