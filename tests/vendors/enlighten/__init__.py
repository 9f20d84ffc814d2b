"""Tests of the Enphase Enlighten vendor."""
