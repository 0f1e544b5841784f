"""Mutations, one module per area; ``schema.mutation.Mutation`` merges them into one type.

Mutations are served over POST only (gateway/graphql_http.py refuses them over GET). Each
declares the scope it needs with ``requires``: without it the field answers FORBIDDEN before
its resolver runs, so a refused mutation costs no MongoDB command. Input the client can fix is
answered as ``errors`` in the payload, and nothing is written.
"""
