"""/models: the model registry in Discord, and the end of early access."""
