// Open the gateway's GraphiQL page in Debian's headless Chromium with every other host out of
// reach, run the query the page opens on, and print what happened as JSON.
//
//   node graphiql_browser.mjs <page URL> <screenshot path>
//
// Requests to any origin but the page's are aborted and listed in "blocked"; Chromium's own
// name resolution also maps every other host to nowhere, so nothing can leave the machine.
// A failure (GraphiQL never rendered, no result) is reported in "error", with a screenshot.
import { rm } from "node:fs/promises";

import { launchOffline } from "./offline_chromium.mjs";

const [pageUrl, screenshotPath] = process.argv.slice(2);
if (!pageUrl || !screenshotPath) {
  console.error("usage: node graphiql_browser.mjs <page URL> <screenshot path>");
  process.exit(2);
}
const origin = new URL(pageUrl).origin;
const TIMEOUT_MS = 90_000;

const report = {
  status: null,
  title: null,
  editorQuery: null,
  resultText: null,
  requests: [],
  blocked: [],
  failed: [],
  pageErrors: [],
  console: [],
  error: null,
};

let context;
let profile;
let page;
try {
  ({ context, profile } = await launchOffline({
    hosts: [new URL(pageUrl).hostname],
    prefix: "graphiql-chromium-",
    timeout: TIMEOUT_MS,
    viewport: { width: 1600, height: 1000 },
  }));
  context.on("request", (request) => report.requests.push(request.url()));
  context.on("requestfailed", (request) =>
    report.failed.push(`${request.url()}: ${request.failure()?.errorText}`),
  );
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) {
      return route.continue();
    }
    report.blocked.push(url);
    return route.abort("internetdisconnected");
  });

  page = context.pages()[0] ?? (await context.newPage());
  // A script error before GraphiQL is on screen ends the wait at once (a page whose scripts did
  // not load stays at "Loading GraphiQL…" forever).
  const crashed = new Promise((_, reject) =>
    page.on("pageerror", (error) => {
      report.pageErrors.push(String(error));
      reject(error);
    }),
  );
  crashed.catch(() => {});
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      report.console.push(`${message.type()}: ${message.text()}`);
    }
  });

  const response = await page.goto(pageUrl, { waitUntil: "load" });
  report.status = response?.status() ?? null;
  report.title = await page.title();

  // React has mounted GraphiQL once its query editor (CodeMirror 5) is on screen.
  const editor = page.locator(".graphiql-query-editor .CodeMirror");
  await Promise.race([editor.waitFor({ state: "visible" }), crashed]);
  report.editorQuery = await editor.evaluate((element) => element.CodeMirror.getValue());

  await page.locator(".graphiql-execute-button").click();
  // The result pane holds JSON once the response arrived (CodeMirror only renders the visible
  // lines, so its text is read from the editor, not from the DOM).
  await page.waitForFunction(() => {
    const pane = document.querySelector(".result-window .CodeMirror");
    const text = pane?.CodeMirror?.getValue() ?? "";
    try {
      const value = JSON.parse(text);
      return "data" in value || "errors" in value;
    } catch {
      return false;
    }
  });
  report.resultText = await page
    .locator(".result-window .CodeMirror")
    .evaluate((element) => element.CodeMirror.getValue());
  // Let the schema-driven parts (documentation explorer, highlighting) settle for the picture.
  await page.waitForTimeout(500);
  await page.screenshot({ path: screenshotPath });
} catch (error) {
  report.error = String(error?.stack ?? error);
  await page?.screenshot({ path: screenshotPath }).catch(() => {});
} finally {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report));
