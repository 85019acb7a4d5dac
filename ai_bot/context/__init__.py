"""Conversation context: Matrix history (fetched elsewhere) → the model's prompt."""
