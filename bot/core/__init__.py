"""The platform-neutral analysis core.

Nothing in here imports a chat platform, a scheduler, a database driver or YAML:
adapters and the store depend on the core, never the other way round.
"""
