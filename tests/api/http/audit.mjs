// Run the graphql-http audit suite (GraphQL over HTTP spec) against a live server.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Prints every result as JSON on stdout, the failing items on stderr; exits 1 if any failed.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = await auditServer({ url });
const report = results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null }));
const failed = report.filter((result) => result.status === 'error' || result.status === 'warn');
for (const result of failed) {
  console.error(`${result.status.toUpperCase()} ${result.name}: ${result.reason}`);
}
console.log(JSON.stringify(report));
process.exit(failed.length ? 1 : 0);
