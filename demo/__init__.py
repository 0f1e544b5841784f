"""The demo catalog: a deterministic product catalog with planted defects, and its pictures.

Not part of the domain (``resolvers``): the gateway seeds it when ``CATALOG_DEMO`` is set, the
``seed`` command writes it on demand, and tests and benchmarks build on it.
"""
