"""KOSTAL PLENTICORE plus / PIKO IQ over the inverter's local REST API."""
