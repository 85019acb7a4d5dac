"""The bot's Matrix side: matrix-nio client with E2EE, cross-signing of its own device."""
