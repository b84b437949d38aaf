"""Publishing feeds: the ``current`` pointer every worker follows, building and deploying a new
graph from the catalog's live feed versions, rollback, and the per-app :class:`Operations`."""
