// Apollo Client's PersistedQueryLink against a live gateway: automatic persisted queries over
// POST and over GET (useGETForHashedQueries), as a front end sends them.
// Usage: node apq.mjs <graphql url>. Prints JSON: {"runs": [{"name", "data", "requests":
// [{"method", "hash", "query", "status", "code", "cacheControl", "etag"}]}]}.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const url = process.argv[2];
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function recordingFetch(requests) {
  return async (input, init) => {
    const target = new URL(typeof input === "string" ? input : input.url);
    const method = init?.method ?? "GET";
    const payload =
      method === "POST"
        ? JSON.parse(init.body)
        : {
            query: target.searchParams.get("query") ?? undefined,
            extensions: JSON.parse(target.searchParams.get("extensions") ?? "null"),
          };
    const response = await fetch(input, init);
    const text = await response.clone().text();
    let code = null;
    try {
      code = JSON.parse(text).errors?.[0]?.extensions?.code ?? null;
    } catch {}
    requests.push({
      method,
      hash: payload.extensions?.persistedQuery?.sha256Hash ?? null,
      query: typeof payload.query === "string" && payload.query.length > 0,
      status: response.status,
      code,
      cacheControl: response.headers.get("cache-control"),
      etag: response.headers.get("etag"),
    });
    return response;
  };
}

async function run(name, query, useGETForHashedQueries) {
  const requests = [];
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
    new HttpLink({ uri: url, fetch: recordingFetch(requests) }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const { data, error } = await client.query({ query: gql(query), fetchPolicy: "network-only" });
  return { name, data: data ?? null, error: error ? String(error) : null, requests };
}

const product = `query Product { product(sku: "NW-RUN-001") { sku name } }`;
const typename = `query Typename { __typename }`;
const runs = [];
try {
  // Not registered yet: the hash alone, PersistedQueryNotFound, then hash and query.
  runs.push(await run("post-first", product, false));
  // Registered: a new client (its own link) sends only the hash, over GET, and is answered.
  runs.push(await run("get-registered", product, true));
  // Over GET for an unknown hash: not found, then the link posts the query.
  runs.push(await run("get-first", typename, true));
} catch (err) {
  process.stderr.write(`apq check failed: ${err?.stack ?? err}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify({ runs }));
