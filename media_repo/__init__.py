"""Media repository extensions: validation, processing, object storage and CDN offload."""
