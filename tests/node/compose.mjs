// Reads [{name, url, sdl}] as JSON on stdin and composes them into a supergraph with
// @apollo/composition (what `rover supergraph compose` and Apollo Router use). Prints JSON:
// {"errors": [...]} or {"supergraphSdl": "...", "hints": [...]}.
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const services = JSON.parse(Buffer.concat(chunks).toString("utf8")).map((s) => ({
  name: s.name,
  url: s.url,
  typeDefs: parse(s.sdl),
}));
const result = composeServices(services);
const out = result.errors
  ? { errors: result.errors.map((e) => e.message) }
  : { supergraphSdl: result.supergraphSdl, hints: (result.hints ?? []).map((h) => h.toString()) };
process.stdout.write(JSON.stringify(out));
