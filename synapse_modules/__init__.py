"""Synapse modules of this distribution, loaded by Synapse from ``modules:`` in its config."""
