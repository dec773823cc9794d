// Times the overview in Debian's Chromium, driven by playwright-core:
// from navigation to the five figures and the cost chart drawn, RUNS
// times in one signed-in browser context (each a fresh page, so nothing
// is reused but the cookie and the HTTP cache). Started by
// BenchmarkConsoleInChromium, which owns the server; prints one
// "RUN <ms>" line per run and "MEDIAN <ms>".
import { env, launch } from "./browser.mjs";

const base = env("CONSOLE_URL");
const runs = Number(env("RUNS"));
if (!Number.isInteger(runs) || runs < 1) throw new Error(`RUNS=${process.env.RUNS} is not a positive integer`);

const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const login = await ctx.newPage();
  await login.goto(base + "/ui/login");
  await login.fill("#token", env("VIEWER_TOKEN"));
  await login.click("button[type=submit]");
  await login.waitForURL(base + "/ui/");
  await login.close();

  const times = [];
  for (let i = 0; i < runs; i++) {
    const page = await ctx.newPage();
    page.setDefaultTimeout(30000);
    const start = performance.now();
    await page.goto(base + "/ui/");
    await page.getByTestId("open-savings").waitFor();
    await page.locator("[data-testid=cost-chart] canvas").waitFor();
    const ms = performance.now() - start;
    times.push(ms);
    console.log(`RUN ${ms.toFixed(1)}`);
    await page.close();
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  console.log(`MEDIAN ${median.toFixed(1)}`);
} finally {
  await browser.close();
}
