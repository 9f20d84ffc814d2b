"""Client of the Tigo Energy cloud, REST API v3."""
