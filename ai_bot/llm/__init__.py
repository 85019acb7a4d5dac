"""Model access: the catalogue, OpenAI-compatible streaming, retries, fallback."""
