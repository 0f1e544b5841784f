"""Load a live gateway's schema the way gql 3 does, with graphql-core 3.2 (run in a subprocess).

Run with ``PYTHONPATH=.venv/graphql-core-3.2`` (make test installs it there) so that
graphql-core 3.2.6, the newest that gql 3.5 accepts, shadows the project's 3.3. Prints JSON:
the library version, the number of types and the printed SDL, which must parse again.
"""

import json
import sys
import urllib.request

import graphql
from graphql import build_client_schema, build_schema, get_introspection_query, print_schema

url = sys.argv[1]
body = json.dumps({"query": get_introspection_query(descriptions=True)}).encode()
request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:  # our own live test server
    result = json.load(response)
schema = build_client_schema(result["data"])
sdl = print_schema(schema)
build_schema(sdl)
print(json.dumps({"version": graphql.__version__, "types": len(schema.type_map), "sdl": sdl}))
