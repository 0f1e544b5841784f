// Walk through the gateway's console (/console) in Debian's headless Chromium as a lead would,
// with every other host out of reach but the gateway's Cloudinary emulator, and print what
// happened as JSON. The configuration comes on stdin:
//
//   {"base": "http://127.0.0.1:PORT", "media": "http://127.0.0.1:PORT2", "out": "<dir>",
//    "lead": "<key>", "storefront": "<key>", "sku": "<in review on web>", "search": "<text>",
//    "importName": "products.jsonl", "importText": "..."}
//
// Screenshots of each page go to <out>/console-<page>.png. Requests and console messages are
// reported so the test can assert that nothing failed and nothing left the machine.
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";

import { launchOffline } from "./offline_chromium.mjs";

const config = JSON.parse(readFileSync(0, "utf8"));
const allowed = new Set([new URL(config.base).origin, new URL(config.media).origin]);
const TIMEOUT_MS = 20_000;

const report = {
  steps: [],
  signedIn: null,
  rows: [],
  filteredRows: [],
  productTitle: null,
  productPictures: 0,
  approvedOutcome: null,
  publishedOutcome: null,
  storefrontBefore: null,
  storefrontAfter: null,
  importStatus: null,
  importRows: [],
  brokenImages: [],
  blocked: [],
  failed: [],
  pageErrors: [],
  // Answers of 400 and above from the gateway itself (the DAM's 404s are pictures the test did
  // not upload).
  httpErrors: [],
  unlabelled: [],
  phoneOverflow: null,
  console: [],
  error: null,
};

async function storefrontName() {
  const response = await fetch(`${config.base}/graphql`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${config.storefront}`,
      "X-Channel": "web",
    },
    body: JSON.stringify({
      query: "query($sku: ID!) { product(sku: $sku) { name } }",
      variables: { sku: config.sku },
    }),
  });
  const body = await response.json();
  return body.data?.product?.name ?? null;
}

let lastStep = Date.now();
async function shot(page, name) {
  // Every form control has a label a screen reader announces.
  const unlabelled = await page.$$eval(
    "input:not([type=hidden]), select, textarea, button",
    (controls) =>
      controls
        .filter((c) => !(c.labels?.length || c.getAttribute("aria-label") || c.textContent.trim()))
        .map((c) => c.name || c.id || c.outerHTML.slice(0, 60)),
  );
  report.unlabelled.push(...unlabelled.map((control) => `${name}: ${control}`));
  await page.screenshot({ path: join(config.out, `console-${name}.png`), fullPage: false });
  report.steps.push(`${name} ${Date.now() - lastStep} ms`);
  lastStep = Date.now();
}

// The pictures in the viewport have loaded (lazy ones below it never start in a headless run).
async function picturesOnScreen(page) {
  await page.waitForFunction(() =>
    [...document.images]
      .filter((image) => image.getBoundingClientRect().top < window.innerHeight)
      .every((image) => image.complete),
  );
}

async function brokenImages(page) {
  return page.$$eval("img", (images) =>
    images.filter((image) => image.complete && image.naturalWidth === 0).map((image) => image.src),
  );
}

let context;
let profile;
let page;
try {
  const hosts = [...allowed].map((origin) => new URL(origin).hostname);
  ({ context, profile } = await launchOffline({
    hosts,
    prefix: "console-chromium-",
    timeout: TIMEOUT_MS,
    viewport: { width: 1280, height: 900 },
  }));
  context.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "";
    // Leaving a page cancels what it still loads (lazy pictures, htmx's poll): not a failure.
    if (reason !== "net::ERR_ABORTED") {
      report.failed.push(`${request.url()}: ${reason}`);
    }
  });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (allowed.has(new URL(url).origin)) {
      return route.continue();
    }
    report.blocked.push(url);
    return route.abort("internetdisconnected");
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("response", (response) => {
    if (response.status() >= 400 && new URL(response.url()).origin === new URL(config.base).origin) {
      report.httpErrors.push(`${response.status()} ${response.url()}`);
    }
  });
  page.on("pageerror", (error) => report.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      report.console.push(`${message.type()}: ${message.text()}`);
    }
  });

  // 1. Sign in with the lead's key.
  await page.goto(`${config.base}/console/readiness`);
  await page.getByLabel("API key").waitFor();
  await shot(page, "sign-in");
  await page.getByLabel("API key").fill(config.lead);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/console/readiness**");
  report.signedIn = await page.locator(".who").textContent();
  report.rows = await page.locator("table.products tbody tr[data-sku]").count();

  // 2. Filter the table: htmx swaps the results in place and pushes the URL.
  await page.getByLabel("Ready").selectOption("yes");
  await page.waitForURL("**ready=yes**");
  await page.getByLabel("Search").fill(config.search);
  await page.getByLabel("Search").press("Enter");
  await page.waitForURL(`**q=${encodeURIComponent(config.search).replace(/%20/g, "+")}**`);
  await page.locator("table.products tbody tr[data-sku]").first().waitFor();
  report.filteredRows = await page
    .locator("table.products tbody tr[data-sku]")
    .evaluateAll((rows) => rows.map((row) => row.dataset.sku));
  await picturesOnScreen(page);
  report.brokenImages.push(...(await brokenImages(page)));
  await shot(page, "readiness");

  // 3. Open the product.
  await page.locator(`tr[data-sku="${config.sku}"] td a`).first().click();
  await page.waitForURL(`**/console/products/**`);
  report.productTitle = await page.locator("h1").textContent();
  await picturesOnScreen(page);
  report.productPictures = await page.locator(".gallery img").count();
  report.brokenImages.push(...(await brokenImages(page)));
  await shot(page, "product");

  // 4. The review queue: approve, then publish now; the storefront sees the new revision.
  report.storefrontBefore = await storefrontName();
  await page.getByRole("link", { name: "Review" }).click();
  await page.waitForURL("**/console/review**");
  const item = page.locator(`li[data-sku="${config.sku}"]`);
  await item.waitFor();
  await shot(page, "review");
  await item.getByLabel("Note").fill("Looks good");
  await item.getByRole("button", { name: "Approve" }).click();
  await page.waitForURL("**outcome=**");
  report.approvedOutcome = await page.locator("p.notice").textContent();
  await page.locator(`li[data-sku="${config.sku}"]`).getByRole("button", { name: "Publish" }).click();
  await page.waitForURL("**outcome=publish**");
  report.publishedOutcome = await page.locator("p.notice").textContent();
  report.storefrontAfter = await storefrontName();

  // 5. An import with an error: the dry run's job page polls (htmx) until it is done.
  await page.getByRole("link", { name: "Imports" }).click();
  await page.getByLabel("File (CSV or JSONL)").setInputFiles({
    name: config.importName,
    mimeType: "application/x-ndjson",
    buffer: Buffer.from(config.importText),
  });
  await page.getByRole("button", { name: "Check (dry run)" }).click();
  await page.waitForURL("**/console/imports/**");
  await page.locator(".status", { hasText: /SUCCEEDED|FAILED/ }).waitFor();
  report.importStatus = await page.locator(".status").textContent();
  report.importRows = await page
    .locator("table.row-errors tbody tr")
    .evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())));
  await shot(page, "import");

  // 6. The audit, and the readiness page at phone width.
  await page.getByRole("link", { name: "Audit" }).click();
  await page.locator("#dup-media").waitFor();
  await shot(page, "audit");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${config.base}/console/readiness?ready=yes&q=${encodeURIComponent(config.search)}`);
  await page.locator("table.products").waitFor();
  // Nothing wider than a phone but the table, which scrolls in its own box.
  report.phoneOverflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth,
  );
  await shot(page, "readiness-phone");
} catch (error) {
  report.error = String(error?.stack ?? error);
  await page?.screenshot({ path: join(config.out, "console-error.png") }).catch(() => {});
} finally {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report));
