// Drives Debian's Chromium (headless, through playwright-core) against a node's web view, for
// integration.web_view (tests/integration/web_view_test.cpp), which owns the cluster:
//
//   node web_view_probe.mjs URL MEMBERS VICTIM SCREENSHOT_DIR
//
// 1. Loads URL once; waits until the members table shows MEMBERS members, every one `up`,
//    and the queue web-queue and the task web-task, then prints "ready <VICTIM's
//    incarnation>" (the test then SIGKILLs VICTIM).
// 2. Without reloading, waits until the page shows VICTIM going `down` (in its list of
//    membership changes) and back `up` under a newer incarnation (in the members table), then
//    prints "seen" and saves screenshots. Every wait is bounded; any failure exits 1 with a
//    line that says what the page did not show.
import { chromium } from "playwright-core";

const [url, membersArg, victim, shots] = process.argv.slice(2);
const members = Number(membersArg);
if (!url || !members || !victim || !shots) {
  console.error("usage: node web_view_probe.mjs URL MEMBERS VICTIM SCREENSHOT_DIR");
  process.exit(64);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // As root, without the machine's sandbox helpers, and with nothing that reaches the network.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  page.on("pageerror", (e) => { console.error("page error: " + e.message); code = 1; });
  await page.goto(url);
  // Every member up.
  await page.waitForFunction((n) => {
    const states = [...document.querySelectorAll("[data-member] .badge")];
    return states.length === n && states.every((b) => b.textContent === "up");
  }, members, { timeout: 30000 });
  // The shared work the test set up: its queue and its task's partitions.
  await page.waitForFunction(() => {
    const q = document.querySelector("#queues tbody");
    const t = document.querySelector("#tasks tbody");
    return q && q.textContent.includes("web-queue") && t && t.textContent.includes("web-task");
  }, null, { timeout: 30000 });
  console.log("shared work shown");
  const before = await page.$eval(`#members tr:has([data-member="${victim}"]) td:nth-child(6)`,
                                  (td) => Number(td.textContent));
  await page.screenshot({ path: `${shots}/web-view-up.png`, fullPage: true });
  console.log(`ready ${before}`);
  // Down, in the changes the page lists (the crash lasts a few hundred ms only).
  await page.waitForSelector(`#changes li[data-name="${victim}"][data-to="down"]`,
                             { timeout: 30000 });
  console.log("down shown");
  // Up again, in the members table, with a newer incarnation.
  await page.waitForFunction(([name, inc]) => {
    const row = document.querySelector(`#members tr:has([data-member="${name}"])`);
    return row && row.querySelector("[data-member] .badge").textContent === "up"
      && Number(row.children[5].textContent) > inc;
  }, [victim, before], { timeout: 30000 });
  const polls = await page.evaluate(() => Number(document.body.dataset.polls));
  await page.screenshot({ path: `${shots}/web-view.png`, fullPage: true });
  console.log(`seen: ${victim} down and up again without a reload (${polls} polls)`);
} catch (e) {
  console.error("the web view did not show it: " + e.message.split("\n")[0]);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
