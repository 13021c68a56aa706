"""The security app's writes: IP allowlist, withdrawal whitelist, security settings. Each takes an actor."""
