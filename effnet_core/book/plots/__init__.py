"""Plotting helpers used by the chapters, one module per chapter topic (matplotlib only)."""
