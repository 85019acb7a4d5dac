"""Content guard: malformed m.room.message content refused, formatted_body HTML sanitised."""

from hearth.synapse_modules.content_guard.module import ContentGuardModule

__all__ = ["ContentGuardModule"]
