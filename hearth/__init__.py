"""Hearth: Synapse plus this project's modules, AI bot and media repository.

``hearth`` is the one import name the distribution installs. The command line and what it
drives (settings, rendering, supervision) live here; ``hearth.synapse_modules``,
``hearth.ai_bot`` and ``hearth.media_repo`` are the repository's top-level folders of the
same names, linked in so that nothing is installed under a generic top-level name.
"""
