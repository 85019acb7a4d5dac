"""The AI bot: a Matrix account that brings an OpenAI-compatible model into rooms (issue 4)."""
