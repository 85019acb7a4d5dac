"""Streaming answers as message edits: one scheduler per bot account."""
