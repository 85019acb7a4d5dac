"""Content guard: malformed m.room.message content refused, HTML in every event sanitised."""

from hearth.synapse_modules.content_guard.module import ContentGuardModule

__all__ = ["ContentGuardModule"]
