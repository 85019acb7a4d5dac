"""One configuration toolkit for hearth's settings, the Synapse modules and the bot.

``types`` (one grammar per kind of value), ``loader`` (files, environment and ``--set``
merged in order), ``errors`` (problems named by their path, as Synapse's ``ConfigError``)
and ``module_config`` (a raw mapping to a frozen model). Not to be confused with the
top-level ``config/`` folder, which holds data (profiles, the policy file, templates).
"""
