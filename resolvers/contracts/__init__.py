"""Channel contracts: what each front end's real operations must get back from the catalog.

``config`` reads ``gateway/contracts.toml``; ``paths`` picks values out of a JSON result;
``checks`` judges one operation's response against its expectations (pure functions);
``engine`` plans the runs of a channel's operations and executes them through a ``Transport``
the edge provides (HTTP, in-process ASGI, or the schema itself for the publish gate);
``report`` sums runs up per channel. Nothing here speaks HTTP or GraphQL itself.
"""
