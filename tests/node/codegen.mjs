// Generates TypeScript types for a schema with GraphQL Code Generator's `typescript` plugin, as
// front-end teams do: `node codegen.mjs <url or file>` (a URL is introspected over HTTP).
// Prints JSON: {"typescript": "..."}; a schema the plugin cannot read exits non-zero.
import { generate } from "@graphql-codegen/cli";

const [output] = await generate(
  {
    schema: process.argv[2],
    generates: { "types.ts": { plugins: ["typescript"] } },
    // Plugins resolve from here, not from the caller's working directory.
    pluginLoader: (name) => import(name),
    silent: true,
  },
  false,
);
process.stdout.write(JSON.stringify({ typescript: output.content }));
