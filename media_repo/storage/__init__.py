"""Content-addressed object storage for Synapse's media (a Synapse media storage provider).

Synapse writes every file to its media store first and then hands it to the provider
(:mod:`.provider`): the file is hashed, uploaded once per distinct content (:mod:`.blobs` maps
Synapse's paths to blobs), optionally encrypted at rest (:mod:`.encryption`), and from then on
the local media store is only a bounded cache (:mod:`.local_cache`). Synapse has no delete for
providers, so the :mod:`.reconciler` removes what Synapse no longer knows about.
"""
