"""Discord adapters: slash commands, buttons and rendering. Each module parses what Discord
sent, calls a domain service, and renders the answer; no domain logic lives here."""
