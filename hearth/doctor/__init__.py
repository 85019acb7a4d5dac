"""``hearth doctor``: check a deployment piece by piece and say, for each, what is wrong and
how to fix it. One module per check; ``runner`` runs them in order."""
