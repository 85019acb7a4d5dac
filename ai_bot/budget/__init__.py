"""Cost management: reserve the estimated cost before a call, settle with real usage after."""
