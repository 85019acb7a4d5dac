"""``python -m hearth.synapse_modules.api_docs``: print docs/api.md."""

from hearth.synapse_modules.api_docs.markdown import reference

print(reference(), end="")
