// Runs graphql-http's GraphQL-over-HTTP server audits against a URL and prints the results as
// JSON: [{id, name, status: "ok"|"notice"|"warn"|"error", reason?, httpStatus?}].
import { auditServer } from "graphql-http";

const url = process.argv[2];
let results;
try {
  results = await auditServer({ url });
} catch (err) {
  process.stderr.write(`cannot audit ${url}: ${err?.cause ?? err}\n`);
  process.exit(2);
}
process.stdout.write(
  JSON.stringify(
    results.map(({ id, name, status, reason, response }) => ({
      id,
      name,
      status,
      ...(reason && { reason, httpStatus: response?.status }),
    })),
  ),
);
