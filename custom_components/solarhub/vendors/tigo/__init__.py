"""Tigo Energy optimizers through the Tigo cloud API v3."""
