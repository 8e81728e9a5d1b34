// End to end in Debian's Chromium against a running `tailor serve` (real catalogue, trained
// model): pick three items, see at least five results, like one, see the list change. Saves a
// screenshot of each page and prints the time from the click to the new list being painted.
//   TAILOR_URL (default http://127.0.0.1:8080), TAILOR_E2E_OUT (screenshots; default e2e/out),
//   CHROMIUM (default /usr/bin/chromium)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.TAILOR_URL ?? "http://127.0.0.1:8080";
const out = process.env.TAILOR_E2E_OUT ?? new URL("./out/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const failures = [];
  page.on("pageerror", (e) => failures.push(e.message));
  await page.goto(url);
  await page.getByRole("heading", { name: "Pick a few things you like" }).waitFor();
  const cards = page.locator("ul.grid button.card");
  await cards.first().waitFor();
  // Real photos: every card image has alt text and has loaded.
  await page.waitForFunction(() => [...document.querySelectorAll("ul.grid img")].slice(0, 6).every((i) => i.complete && i.naturalWidth > 0));
  check((await page.locator("ul.grid img:not([alt])").count()) === 0, "an image without alt text");
  for (const n of [0, 1, 2]) await cards.nth(n).click();
  check((await page.locator("button.card[aria-pressed=true]").count()) === 3, "three items are picked");
  await page.screenshot({ path: join(out, "selection.png"), fullPage: false });

  await page.getByRole("button", { name: /Show recommendations \(3 picked\)/ }).click();
  const results = page.locator("ol.results > li");
  await page.waitForFunction(() => document.querySelectorAll("ol.results > li").length >= 5, null, { timeout: 10_000 });
  const count = await results.count();
  check(count >= 5, `only ${count} results`);
  const reasons = await page.locator("ol.results em").allTextContents();
  check(reasons.some((r) => r.startsWith("similar to")), `no result explains itself: ${reasons.join(" | ")}`);
  await page.screenshot({ path: join(out, "results.png"), fullPage: false });

  const before = await page.locator("ol.results strong").allTextContents();
  await page.evaluate(() => performance.clearMarks());
  await results.first().getByRole("button", { name: /^Like/ }).click();
  await page.waitForFunction(
    (old) => [...document.querySelectorAll("ol.results strong")].map((e) => e.textContent).join("|") !== old,
    before.join("|"),
    { timeout: 5_000 },
  );
  const timing = await page.evaluate(() => {
    const clicked = performance.getEntriesByName("feedback-clicked")[0];
    const painted = performance.getEntriesByName("results-painted").at(-1);
    return { clickToPaint: painted.startTime - clicked.startTime, answerToPaint: painted.detail.sinceAnswer };
  });
  await page.screenshot({ path: join(out, "after-like.png"), fullPage: false });
  check(failures.length === 0, `page errors: ${failures.join("; ")}`);
  console.log(
    `e2e passed: ${count} results; after a like the list changed, painted ${timing.clickToPaint.toFixed(1)} ms after the click ` +
      `(${timing.answerToPaint.toFixed(1)} ms after the API answered); screenshots in ${out}`,
  );
} finally {
  await browser.close();
}
