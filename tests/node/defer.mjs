// Apollo Client's @defer against a live gateway, with each of its incremental handlers:
// Defer20220824Handler (Apollo Router's format) and GraphQL17Alpha9Handler (graphql-js 17's).
// Usage: node defer.mjs <graphql url> <deferred query> <whole query>. Prints JSON:
// {"runs": [{"handler", "accept", "contentType", "emissions": [{"dataState", "data"}],
// "cached": the whole query read from the deferred run's cache, "whole": the whole query's
// data from a client of its own, "error"}]}.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { Defer20220824Handler, GraphQL17Alpha9Handler } from "@apollo/client/incremental";

const [url, deferred, whole] = process.argv.slice(2);

function client(incrementalHandler, exchanges) {
  const fetchAndNote = async (input, init) => {
    const response = await fetch(input, init);
    exchanges.push({
      accept: new Headers(init?.headers).get("accept"),
      contentType: response.headers.get("content-type"),
    });
    return response;
  };
  return new ApolloClient({
    link: new HttpLink({ uri: url, fetch: fetchAndNote }),
    cache: new InMemoryCache(),
    incrementalHandler,
  });
}

function emissions(apollo, query) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const subscription = apollo
      .watchQuery({ query: gql(query), fetchPolicy: "network-only" })
      .subscribe({
        next: (result) => {
          if (result.error) {
            subscription.unsubscribe();
            reject(result.error);
            return;
          }
          if (result.data === undefined) return; // the loading state before any part
          seen.push({ dataState: result.dataState, data: result.data });
          if (result.dataState === "complete" && !result.loading) {
            subscription.unsubscribe();
            resolve(seen);
          }
        },
        error: reject,
      });
  });
}

async function run(name, handler) {
  const exchanges = [];
  const apollo = client(handler, exchanges);
  const seen = await emissions(apollo, deferred);
  const cached = apollo.readQuery({ query: gql(whole) });
  const other = client(handler, []);
  const { data } = await other.query({ query: gql(whole), fetchPolicy: "network-only" });
  return {
    handler: name,
    accept: exchanges[0]?.accept ?? null,
    contentType: exchanges[0]?.contentType ?? null,
    emissions: seen,
    cached,
    whole: data,
  };
}

try {
  const runs = [
    await run("Defer20220824Handler", new Defer20220824Handler()),
    await run("GraphQL17Alpha9Handler", new GraphQL17Alpha9Handler()),
  ];
  process.stdout.write(JSON.stringify({ runs }));
} catch (err) {
  process.stderr.write(`defer check failed: ${err?.stack ?? err}\n`);
  process.exit(2);
}
