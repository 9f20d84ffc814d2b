"""Client of the Enphase Enlighten cloud: Systems API v2 and Monitoring API v4."""
