// A Node.js peer of the gateway for `make bench`: the Q1/Q3 schema subset as a team would build
// it in JavaScript: Apollo Server 5 (a federation subgraph, @apollo/subgraph), one DataLoader per
// collection per request over the official MongoDB driver, delivery URLs filled from per-slot
// templates. PEER_EXECUTOR=jit runs the same schema and resolvers through graphql-jit (compiled
// once per document) as Apollo Server's executor.
//
// Environment: MONGODB_URI, CATALOG_DB, CATALOG_PORT, PEER_CONFIG (the JSON written by
// benchmarks/peer_config.py), PEER_EXECUTOR (apollo | jit), PEER_APP_NAME (MongoDB appName).
// GET /healthz answers 200 once MongoDB answers; POST /graphql serves GraphQL over HTTP.

import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import { ApolloServer, HeaderMap } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import DataLoader from "dataloader";
import { GraphQLScalarType, parse } from "graphql";
import { compileQuery, isCompiledQuery } from "graphql-jit";
import { MongoClient, ObjectId } from "mongodb";

import { Channel, Locales, assetKey, decodeCursor, encodeCursor, fillSlot, fillTemplate, neededCodes } from "./domain.mjs";

const MAX_PAGE_SIZE = 100;
const KEEP_ALIVE_MS = 120_000; // as the harness's uvicorn servers: no connection dies mid-run
// What the payloads read, as the REST floor projects it (benchmarks/rest_floor.py), plus brand.
const PRODUCT_FIELDS = {
  sku: 1,
  brand: 1,
  name: 1,
  description: 1,
  attributes: 1,
  variants: 1,
  media: 1,
  categories: 1,
};
const ASSET_FIELDS = {
  _id: 0,
  publicId: 1,
  resourceType: 1,
  status: 1,
  lifecycle: 1,
  validFrom: 1,
  validTo: 1,
  usageChannels: 1,
  width: 1,
  height: 1,
  format: 1,
  alt: 1,
  poster: 1,
  version: 1,
};

const env = process.env;
const executorName = env.PEER_EXECUTOR ?? "apollo";
if (!["apollo", "jit"].includes(executorName)) throw new Error(`PEER_EXECUTOR must be apollo or jit, not ${executorName}`);
const config = JSON.parse(readFileSync(env.PEER_CONFIG, "utf8"));
const locales = new Locales(config.locales);
const channels = new Map(
  Object.entries(config.channels).map(([name, c]) => [name, new Channel(name, c, config.textLengths, config.swatchFallbackRoles)]),
);

const mongo = new MongoClient(env.MONGODB_URI, { appName: env.PEER_APP_NAME ?? `bench-${executorName}` });
const db = mongo.db(env.CATALOG_DB ?? "catalog");
const products = db.collection("products");

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  scalar JSON
  type Query {
    products(first: Int! = 20, after: String): ProductConnection!
  }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type ProductConnection { pageInfo: PageInfo! edges: [ProductEdge!]! }
  type ProductEdge { cursor: String! node: Product! }
  type Product @key(fields: "sku") {
    sku: String!
    brand: String!
    name(locale: String): String
    attributes(codes: [String!]): [ProductAttribute!]!
    heroImage(channel: String!): MediaAsset
    readiness(channel: String!): ProductReadiness!
  }
  type ProductAttribute { code: String! value: JSON }
  type MediaAsset { publicId: String! url(slot: String!): String! }
  type ProductReadiness { score: Int! }
`);

function channelNamed(name) {
  const channel = channels.get(name.toLowerCase());
  if (!channel) throw new Error(`unknown channel ${name}`);
  return channel;
}

function byKeys(keys, documents, keyOf) {
  const found = new Map(documents.map((d) => [keyOf(d), d]));
  return keys.map((k) => found.get(k) ?? null);
}

// One set of loaders per request, as DataLoader's documentation recommends.
function requestContext() {
  return {
    now: new Date(),
    productBySku: new DataLoader(async (skus) =>
      byKeys(skus, await products.find({ sku: { $in: [...skus] } }, { projection: PRODUCT_FIELDS }).toArray(), (d) => d.sku),
    ),
    asset: new DataLoader(async (keys) => {
      const ids = [...new Set(keys.map((k) => k.split("\u0000")[1]))];
      const found = await db.collection("assets").find({ publicId: { $in: ids } }, { projection: ASSET_FIELDS }).toArray();
      return byKeys(keys, found, (d) => `${d.resourceType ?? "image"}\u0000${d.publicId}`);
    }),
    category: new DataLoader(async (slugs) =>
      byKeys(slugs, await db.collection("categories").find({ slug: { $in: [...slugs] } }, { projection: { _id: 0 } }).toArray(), (d) => d.slug),
    ),
    definition: new DataLoader(async (codes) =>
      byKeys(codes, await db.collection("attributes").find({ code: { $in: [...codes] } }, { projection: { _id: 0 } }).toArray(), (d) => d.code),
    ),
  };
}

async function assetsOf(context, references) {
  const keys = [...new Set(references.map(assetKey))];
  const loaded = await context.asset.loadMany(keys);
  return new Map(keys.map((k, i) => [k, loaded[i]]));
}

function resolveLocale(tag) {
  if (tag == null) return locales.default;
  const found = Object.keys(locales.chains).find((t) => t.toLowerCase() === tag.toLowerCase());
  if (!found) throw new Error(`unsupported locale ${tag}`);
  return found;
}

const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  serialize: (value) => value,
  parseValue: (value) => value,
});

const resolvers = {
  JSON: JSONScalar,
  Query: {
    async products(_, { first, after }) {
      if (first < 0 || first > MAX_PAGE_SIZE) throw new Error(`'first' must be 0-${MAX_PAGE_SIZE}`);
      let filter = {};
      if (after) {
        const { value, id } = decodeCursor(after);
        filter = { $or: [{ sku: { $gt: value } }, { sku: { $eq: value }, _id: { $gt: new ObjectId(id) } }] };
      }
      const documents = await products
        .find(filter, { projection: PRODUCT_FIELDS })
        .sort({ sku: 1, _id: 1 })
        .limit(first + 1)
        .toArray();
      const page = documents.slice(0, first);
      return {
        pageInfo: { hasNextPage: documents.length > first, endCursor: page.length ? encodeCursor(page.at(-1)) : null },
        edges: page.map((node) => ({ cursor: encodeCursor(node), node })),
      };
    },
  },
  Product: {
    __resolveReference(reference, context) {
      return context.productBySku.load(reference.sku);
    },
    name(product, { locale }) {
      return locales.pick(product.name, resolveLocale(locale));
    },
    async attributes(product, { codes }, context) {
      const values = product.attributes ?? {};
      const wanted = Object.keys(values).filter(
        (code) => (codes == null || codes.includes(code)) && values[code] !== null && typeof values[code] === "object",
      );
      const definitions = await context.definition.loadMany(wanted);
      return wanted.map((code, i) => {
        let value = values[code].value;
        const definition = definitions[i] instanceof Error ? null : definitions[i];
        const localizable = definition ? Boolean(definition.localizable) : value !== null && typeof value === "object" && !Array.isArray(value);
        if (localizable && value !== null && typeof value === "object" && !Array.isArray(value)) {
          value = locales.pick(value, locales.default);
        }
        return { code, value };
      });
    },
    async heroImage(product, { channel }, context) {
      const profile = channelNamed(channel);
      const slot = profile.heroSlot;
      if (!slot) return null;
      const references = (product.media ?? []).filter((r) => slot.roles.includes(r.role));
      const assets = await assetsOf(context, references);
      const asset = fillSlot(slot, product, assets, profile.name, context.now);
      return asset === null
        ? { publicId: slot.placeholder, asset: null, resourceType: slot.resourceType, profile }
        : { publicId: asset.publicId, asset, resourceType: asset.resourceType ?? "image", profile };
    },
    async readiness(product, { channel }, context) {
      const profile = channelNamed(channel);
      const [assets, categories] = await Promise.all([
        assetsOf(context, product.media ?? []),
        context.category.loadMany(product.categories ?? []),
      ]);
      const mine = categories.filter((c) => c && !(c instanceof Error));
      const codes = neededCodes(mine);
      const loaded = await context.definition.loadMany(codes);
      const definitions = new Map(codes.map((code, i) => [code, loaded[i]]));
      return { score: profile.score(product, assets, mine, definitions, locales, context.now) };
    },
  },
  MediaAsset: {
    url(media, { slot }) {
      const found = media.profile.slots[slot.toLowerCase()];
      if (!found) throw new Error(`unknown slot ${slot}`);
      if (media.resourceType === "video" && found.resourceType === "image" && media.asset) {
        throw new Error("video posters are not part of the peers' subset");
      }
      return fillTemplate(found.template, media.publicId, media.asset?.version ?? null);
    },
  },
};

const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);

// graphql-jit: each document compiled once, then run as a plain function.
function jitGateway() {
  const compiled = new Map();
  return {
    async load() {
      return {
        schema,
        async executor(request) {
          const key = `${request.operationName ?? ""}\u0000${request.source}`;
          let query = compiled.get(key);
          if (!query) {
            query = compileQuery(schema, request.document, request.operationName ?? undefined);
            if (!isCompiledQuery(query)) return query; // errors, as graphql-js reports them
            compiled.set(key, query);
          }
          return query.query(undefined, request.context, request.request.variables ?? {});
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    async stop() {},
  };
}

// No inline traces (a subgraph's default, for a router that asks for them): nothing asks here.
const plugins = [ApolloServerPluginInlineTraceDisabled()];
const apollo = new ApolloServer(executorName === "jit" ? { gateway: jitGateway(), plugins } : { schema, plugins });
await mongo.connect();
await apollo.start();

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url, "http://peer");
    if (url.pathname === "/healthz") {
      await db.command({ ping: 1 });
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (url.pathname !== "/graphql") {
      response.writeHead(404).end();
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const text = request.method === "POST" ? await readBody(request) : "";
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method ?? "GET", headers, search: url.search, body: text ? JSON.parse(text) : undefined },
      context: async () => requestContext(),
    });
    const out = {};
    for (const [name, value] of result.headers) out[name] = value;
    response.writeHead(result.status ?? 200, out);
    if (result.body.kind === "complete") {
      response.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) response.write(chunk);
      response.end();
    }
  } catch (error) {
    response.writeHead(500, { "content-type": "text/plain" }).end(String(error?.stack ?? error));
  }
});
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.headersTimeout = KEEP_ALIVE_MS + 1000;

async function shutdown() {
  server.close();
  server.closeAllConnections();
  await apollo.stop();
  await mongo.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

server.listen(Number(env.CATALOG_PORT ?? 4000), "127.0.0.1", () => {
  // The line the harness waits for (as uvicorn prints it), then it polls /healthz.
  console.log(`Application startup complete (${executorName}, port ${env.CATALOG_PORT})`);
});
