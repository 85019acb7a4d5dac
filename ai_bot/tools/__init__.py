"""Function calling: a registry of tools with a small interface, and the built-in tools."""
