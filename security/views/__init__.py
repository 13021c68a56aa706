"""The security app's pages, one module per subject."""
