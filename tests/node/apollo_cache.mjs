// Writes query results into one Apollo Client InMemoryCache, in order, then reads each query
// back, as a front end does when several screens share the cache. Reads JSON on stdin:
// {"possibleTypes": {...}, "typePolicies": {...}, "results": [{"query": "...", "data": {...}}]}.
// Prints JSON: {"reads": [data read back, one per result]}.
import { InMemoryCache, gql } from "@apollo/client";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const cache = new InMemoryCache({
  possibleTypes: input.possibleTypes,
  typePolicies: input.typePolicies ?? {},
});
const results = input.results.map(({ query, data }) => ({ query: gql(query), data }));
for (const { query, data } of results) cache.writeQuery({ query, data });
const reads = results.map(({ query }) => cache.readQuery({ query }));
process.stdout.write(JSON.stringify({ reads }));
