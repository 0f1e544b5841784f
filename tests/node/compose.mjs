// Reads [{name, url, sdl}] as JSON on stdin and composes them into a supergraph. The composer
// is the first argument: "apollo" (default; @apollo/composition, what `rover supergraph
// compose` and Apollo Router use) or "guild" (@theguild/federation-composition, what Hive and
// Hive Gateway use). Prints JSON: {"errors": [...]} or {"supergraphSdl": "...", "hints": [...]}.
import { composeServices as composeWithApollo } from "@apollo/composition";
import { composeServices as composeWithGuild } from "@theguild/federation-composition";
import { parse } from "graphql";

const composers = { apollo: composeWithApollo, guild: composeWithGuild };
const compose = composers[process.argv[2] ?? "apollo"];
if (!compose) throw new Error(`unknown composer ${process.argv[2]}`);

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const services = JSON.parse(Buffer.concat(chunks).toString("utf8")).map((s) => ({
  name: s.name,
  url: s.url,
  typeDefs: parse(s.sdl),
}));
const result = compose(services);
const out = result.errors
  ? { errors: result.errors.map((e) => e.message) }
  : { supergraphSdl: result.supergraphSdl, hints: (result.hints ?? []).map((h) => h.toString()) };
process.stdout.write(JSON.stringify(out));
