// Subscriptions over WebSocket as front ends make them: Apollo Client's GraphQLWsLink on the
// graphql-ws client (graphql-transport-ws protocol), against a live gateway.
// Usage: node subscriptions.mjs <graphql url> <api key> <sku>.
// 1. subscribes to productChanged for <sku>, then runs a query over the same socket (the
//    gateway answers it only once the subscription's change stream is open), then renames the
//    product over HTTP and waits for the change;
// 2. tries what must be refused: a bad key, a mutation over the socket, a costly document.
// Prints JSON: {"event", "renamed", "refusals": {...}}.
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

// Apollo's link tells closes apart by the global WebSocket, which Node 20 does not define.
globalThis.WebSocket ??= WebSocket;

const [url, key, sku] = process.argv.slice(2);
const wsUrl = url.replace(/^http/, "ws");

const CHANGED = gql`
  subscription Changed($skus: [String!]) {
    productChanged(skus: $skus) {
      sku
      kind
      revision
      product { sku name }
    }
  }
`;

function wsClient(authorization, onClosed) {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: authorization },
    retryAttempts: 0,
    lazy: true,
    on: onClosed ? { closed: onClosed } : undefined,
  });
}

async function http(query, variables) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

async function liveChange() {
  const ws = wsClient(`Bearer ${key}`);
  const client = new ApolloClient({ link: new GraphQLWsLink(ws), cache: new InMemoryCache() });
  let resolveEvent;
  const event = new Promise((resolve) => (resolveEvent = resolve));
  const subscription = client
    .subscribe({ query: CHANGED, variables: { skus: [sku] } })
    .subscribe({ next: (result) => resolveEvent(result), error: (e) => resolveEvent({ error: String(e) }) });
  // Over the same socket, after the subscribe message: answered once the stream is open.
  await client.query({ query: gql`query Ready { __typename }`, fetchPolicy: "network-only" });
  const [{ data: read }] = [await http(`{ product(sku: "${sku}") { revision } }`)];
  const renamed = await http(
    `mutation($input: ProductUpdateInput!) { productUpdate(input: $input) { errors { message } } }`,
    {
      input: {
        sku,
        expectedRevision: read.product.revision,
        name: [{ locale: "en-US", value: "Renamed live" }],
      },
    },
  );
  const result = await withTimeout(event, 20000, "the change event");
  subscription.unsubscribe();
  await ws.dispose();
  return { event: result.data ?? result, renamed: renamed.data?.productUpdate ?? renamed };
}

function closeCode(authorization) {
  return new Promise((resolve) => {
    const ws = wsClient(authorization, (event) => resolve({ code: event.code, reason: event.reason }));
    ws.subscribe({ query: "subscription { productChanged { sku } }" }, {
      next: () => {},
      error: () => {},
      complete: () => {},
    });
  });
}

function operationErrors(query) {
  const ws = wsClient(`Bearer ${key}`);
  return new Promise((resolve) => {
    ws.subscribe({ query }, {
      next: (value) => resolve({ next: value }),
      error: (errors) => resolve({ errors: Array.isArray(errors) ? errors : [String(errors)] }),
      complete: () => resolve({ complete: true }),
    });
  }).finally(() => ws.dispose());
}

const live = await liveChange();
const refusals = {
  badKey: await withTimeout(closeCode("Bearer cg_nope"), 20000, "the refused key's close"),
  mutation: await operationErrors(
    `mutation { productArchive(input: {sku: "${sku}"}) { errors { message } } }`,
  ),
  costly: await operationErrors(
    `subscription { productChanged { product { accessories { related { related { related {
      media(channel: "web") { publicId } } } } } } } }`,
  ),
};
console.log(JSON.stringify({ ...live, refusals }));
process.exit(0);
