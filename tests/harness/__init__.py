"""Test harness: real Synapse processes, real PostgreSQL, a real SMTP server, mautrix clients."""
