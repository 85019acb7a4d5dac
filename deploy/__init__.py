"""Local orchestration: render the configuration, run and supervise the processes, admin tasks."""
