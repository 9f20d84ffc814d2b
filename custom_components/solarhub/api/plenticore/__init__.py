"""Client of the KOSTAL PLENTICORE plus / PIKO IQ local REST API."""
