// A page of another origin calls the gateway from Debian's headless Chromium: the browser's own
// CORS checks (preflight, Access-Control-* headers) decide whether the page may read the answer.
//
//   node cors_browser.mjs <page origin> <graphql URL>
//
// The page (<page origin>/) is made up by the route below, so nothing listens there; the fetch
// to the gateway goes out for real. Prints JSON: {"plain": {...}, "preflighted": {...},
// "requests": [{"method", "url"}], "error"} where each call is {"ok", "status", "data",
// "requestId", "error"} as the page saw it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

const [pageOrigin, graphqlUrl] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TIMEOUT_MS = 60_000;
const report = { plain: null, preflighted: null, requests: [], console: [], error: null };

const profile = await mkdtemp(join(tmpdir(), "cors-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout: TIMEOUT_MS,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      // The made-up page has no address, so Chromium counts it as public and would refuse it the
      // loopback gateway (Local Network Access) before CORS is even asked; in production both
      // are public. This check is about CORS.
      "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults",
    ],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.on("request", (request) =>
    report.requests.push({ method: request.method(), url: request.url() }),
  );
  await context.route(`${pageOrigin}/**`, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>app</title>" }),
  );
  const page = context.pages()[0] ?? (await context.newPage());
  // The browser says why it withheld an answer (CORS, local network access) on the console.
  page.on("console", (message) => report.console.push(message.text()));
  await page.goto(`${pageOrigin}/`);
  const call = (method, headers) =>
    page.evaluate(
      async ({ url, method, headers }) => {
        const query = "{ __typename }";
        try {
          const response =
            method === "GET"
              ? await fetch(`${url}?query=${encodeURIComponent(query)}`, { headers })
              : await fetch(url, { method, headers, body: JSON.stringify({ query }) });
          return {
            ok: response.ok,
            status: response.status,
            data: (await response.json()).data ?? null,
            requestId: response.headers.get("x-request-id"),
            error: null,
          };
        } catch (error) {
          return { ok: false, status: null, data: null, requestId: null, error: String(error) };
        }
      },
      { url: graphqlUrl, method, headers },
    );
  // A GET without custom headers is a "simple" request: no preflight, the answer's headers
  // alone decide whether the page may read it.
  report.plain = await call("GET", {});
  // JSON and a custom header: the browser asks first (OPTIONS).
  report.preflighted = await call("POST", { "content-type": "application/json", "x-channel": "web" });
} catch (error) {
  report.error = String(error?.stack ?? error);
} finally {
  await context?.close();
  await rm(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report));
