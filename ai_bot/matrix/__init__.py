"""The bot's Matrix side: the nio client (``client``), its errors (``errors``), the narrow
views the bot's pieces depend on (``protocols``), E2EE chores (``encryption``) and
cross-signing of its own device (``crosssign``)."""
