// Debian's Chromium (CHROMIUM, default /usr/bin/chromium) through playwright-core, in a fresh
// profile, able to resolve only the given hosts: a page that reaches for the internet fails its
// request instead of waiting on it, and the checks see that request fail.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

export const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** A persistent context (and its profile directory, for the caller to remove) in which only
 * `hosts` resolve. */
export async function launchOffline({ hosts, prefix, timeout, viewport }) {
  const profile = await mkdtemp(join(tmpdir(), prefix));
  const launching = chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout,
    viewport,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${[...new Set(hosts)].join(", EXCLUDE ")}`,
    ],
  });
  const context = await launching.catch(async (error) => {
    await rm(profile, { recursive: true, force: true });
    throw error;
  });
  context.setDefaultTimeout(timeout);
  return { context, profile };
}
