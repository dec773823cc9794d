// Times the overview in Debian's Chromium, driven by playwright-core:
// from the navigation's start to the five figures and the cost chart's
// canvas drawn, RUNS times in one signed-in browser context (each a fresh
// page, so nothing is reused but the cookie; the console's responses are
// no-store). Started by BenchmarkConsoleInChromium, which owns the server.
//
// The time is the page's own: performance.now() (whose origin is the
// navigation's start) in the first task after the frame that shows the
// figures and the chart, as a user would see them. What the driver adds
// (sending the navigation over the DevTools pipe, polling for the result)
// is printed beside it but is not the page's time.
//
// Each run's page first shows the sign-in page, where a user starts, and
// the clock starts with the navigation from there to /ui/. From a page
// still at about:blank the navigation moves it into a new renderer
// process, which the driver's DevTools session has to set up before the
// document runs: the first stylesheet was requested 300-1100 ms after the
// HTML had arrived, against 50-100 ms from the sign-in page. That is a
// cost of driving the browser, not of opening the console.
//
// Prints per run "RUN <page ms> driver <ms> | <where the time went>", then
// "MEDIAN <page ms>" and "DRIVER-MEDIAN <ms>".
import { env, launch } from "./browser.mjs";

const base = env("CONSOLE_URL");
const runs = Number(env("RUNS"));
if (!Number.isInteger(runs) || runs < 1) throw new Error(`RUNS=${process.env.RUNS} is not a positive integer`);

// Runs in every document before its own scripts: notes when the figures
// and the chart's canvas are both in the document, then the end of the
// frame that first shows them.
function watchOverview() {
  const seen = () => {
    const fig = document.querySelector("[data-testid=open-savings]");
    return fig && fig.textContent.trim() !== "" && document.querySelector("[data-testid=cost-chart] canvas");
  };
  const mo = new MutationObserver(() => {
    if (!seen()) return;
    mo.disconnect();
    const inDOM = performance.now();
    // rAF runs just before the frame is drawn; a task queued from it runs
    // after that frame.
    requestAnimationFrame(() => setTimeout(() => {
      window.sirsiOverviewDrawn = { inDOM, drawn: performance.now() };
    }));
  });
  mo.observe(document, { subtree: true, childList: true, characterData: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const login = await ctx.newPage();
  await login.goto(base + "/ui/login");
  await login.fill("#token", env("VIEWER_TOKEN"));
  await login.click("button[type=submit]");
  await login.waitForURL(base + "/ui/");
  await login.close();
  await ctx.addInitScript(watchOverview);

  const pageTimes = [];
  const driverTimes = [];
  for (let i = 0; i < runs; i++) {
    const page = await ctx.newPage();
    page.setDefaultTimeout(30000);
    await page.goto(base + "/ui/login");
    const start = performance.now();
    await page.goto(base + "/ui/", { waitUntil: "commit" });
    await page.waitForFunction(() => window.sirsiOverviewDrawn);
    const driver = performance.now() - start;
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const res = performance.getEntriesByType("resource").map((e) => `${e.name.replace(/^.*\/ui\/(assets|api)\//, "")} ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)}`);
      return {
        ...window.sirsiOverviewDrawn,
        detail: `html ${nav.responseEnd.toFixed(0)}, ${res.join(", ")}, DOMContentLoaded ${nav.domContentLoadedEventEnd.toFixed(0)}, ` +
          `in DOM ${window.sirsiOverviewDrawn.inDOM.toFixed(0)}`,
      };
    });
    pageTimes.push(t.drawn);
    driverTimes.push(driver);
    console.log(`RUN ${t.drawn.toFixed(1)} driver ${driver.toFixed(1)} | ${t.detail}`);
    await page.close();
  }
  console.log(`MEDIAN ${median(pageTimes).toFixed(1)}`);
  console.log(`DRIVER-MEDIAN ${median(driverTimes).toFixed(1)}`);
} finally {
  await browser.close();
}
