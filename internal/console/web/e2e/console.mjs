// End-to-end run of the web console in Debian's Chromium, driven by
// playwright-core (no browser download). Started by e2e_test.go, which
// owns the server and the agent: this script reports what it sees on
// stdout ("FIGURES {...}", "APPROVED <id>", "WAITING-FOR-ACTION") and the
// Go test checks it against the API and reports the agent's action.
import { env, launch } from "./browser.mjs";
import { createInterface } from "node:readline";

const base = env("CONSOLE_URL");
const evil = env("EVIL_URL");
const out = env("SCREENSHOT_DIR");
const timeout = 15000;

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
async function expectLine(want) {
  const { value } = await lines.next();
  if (value !== want) throw new Error(`expected "${want}" from the test, got "${value}"`);
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

const browser = await launch();
try {
  const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await admin.newPage();
  page.setDefaultTimeout(timeout);
  // Anything the Content-Security-Policy blocked shows as a console error.
  const cspViolations = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text());
  });

  // Sign in.
  await page.goto(base + "/ui/");
  check(page.url().endsWith("/ui/login"), `signed out, /ui/ went to ${page.url()}`);
  await page.screenshot({ path: `${out}/login.png` });
  await page.fill("#token", env("ADMIN_TOKEN"));
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/ui/");
  await page.getByTestId("open-savings").waitFor();
  await page.getByTestId("stream-state").getByText("live").waitFor();
  const figures = {};
  for (const id of ["cost-total", "cost-forecast", "savings-accrued", "savings-run-rate", "open-savings"]) {
    figures[id] = (await page.getByTestId(id).textContent()).trim();
  }
  console.log("FIGURES " + JSON.stringify(figures));
  await page.screenshot({ path: `${out}/overview.png`, fullPage: true });

  await page.goto(base + "/ui/#/inventory");
  await page.getByTestId("resources").waitFor();
  await page.screenshot({ path: `${out}/inventory.png`, fullPage: true });

  // The search narrows the list on the server; the rows (id, monthly
  // cost, utilisation) go to the Go test, which compares them with the
  // API's answer to the same search.
  const rowsOf = () => page.getByTestId("resources").locator("tbody tr");
  const all = await rowsOf().count();
  await page.fill("input[name=query]", env("INVENTORY_SEARCH"));
  await page.getByTestId("search").click();
  const finds = Number(env("INVENTORY_FINDS"));
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=resources] tbody tr").length === n, finds);
  const rows = await rowsOf().evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.querySelector("[data-resource]").dataset.resource,
      cost: tr.querySelector("[data-cost]").textContent.trim(),
      util: [...tr.querySelectorAll("[data-util]")].map((li) => li.textContent.trim()),
    })),
  );
  console.log("INVENTORY " + JSON.stringify({ all, rows }));
  await page.screenshot({ path: `${out}/inventory-search.png`, fullPage: true });

  // Approve the first open recommendation.
  await page.goto(base + "/ui/#/recommendations");
  await page.getByTestId("recommendations").waitFor();
  await page.screenshot({ path: `${out}/recommendations.png`, fullPage: true });
  const row = page.getByTestId("recommendations").locator("tbody tr").first();
  const recID = await row.locator("[data-rec]").getAttribute("data-rec");
  await row.getByTestId("approve").click();
  await page.getByRole("status").getByText(`Approved ${recID}.`).waitFor();
  console.log("APPROVED " + recID);

  // The action the agent takes appears without a reload: a marker set on
  // the window survives only if the page was not loaded again.
  await page.evaluate(() => {
    window.sirsiE2EMarker = "same page";
  });
  await page.click("a[href='#/actions']");
  await page.getByText("No actions yet.").waitFor();
  console.log("WAITING-FOR-ACTION");
  await expectLine("ACTION-REPORTED");
  await page.getByTestId("actions").locator("tbody tr").first().waitFor();
  const actionText = await page.getByTestId("actions").textContent();
  check(actionText.includes("succeeded") && actionText.includes("verify"), `actions table: ${actionText}`);
  check((await page.evaluate(() => window.sirsiE2EMarker)) === "same page", "the page reloaded");
  await page.screenshot({ path: `${out}/actions.png`, fullPage: true });
  console.log("ACTION-SEEN " + actionText.replace(/\s+/g, " ").slice(0, 200));

  await page.goto(base + "/ui/#/agents");
  await page.getByTestId("agents").waitFor();
  await page.screenshot({ path: `${out}/agents.png`, fullPage: true });
  await page.goto(base + "/ui/#/audit");
  await page.getByTestId("audit").waitFor();
  await page.screenshot({ path: `${out}/audit.png`, fullPage: true });

  // A forged request from the signed-in page's own script, without the
  // CSRF token, is refused.
  const forgedStatus = await page.evaluate(async (id) => {
    const r = await fetch("/ui/api/DismissRecommendation", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id }),
    });
    return r.status;
  }, recID);
  check(forgedStatus === 403, `a POST without the CSRF token got ${forgedStatus}`);
  // A form on another origin posting into the console is refused too.
  const evilPage = await admin.newPage();
  await evilPage.goto(evil);
  await evilPage.click("button");
  await evilPage.waitForLoadState();
  const evilBody = await evilPage.textContent("body");
  check(/error/.test(evilBody) && !/recommendation/.test(evilBody), `the cross-origin form got: ${evilBody}`);
  console.log("FORGED-REFUSED " + forgedStatus + " " + evilBody.trim());
  check(cspViolations.length === 0, `CSP violations: ${cspViolations.join("; ")}`);

  // A viewer sees the recommendations and no approve button.
  const viewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const vpage = await viewer.newPage();
  vpage.setDefaultTimeout(timeout);
  await vpage.goto(base + "/ui/login");
  await vpage.fill("#token", env("VIEWER_TOKEN"));
  await vpage.click("button[type=submit]");
  await vpage.waitForURL(base + "/ui/");
  await vpage.goto(base + "/ui/#/recommendations");
  await vpage.getByTestId("recommendations").locator("tbody tr").first().waitFor();
  const buttons = await vpage.getByTestId("approve").count();
  check(buttons === 0, `the viewer sees ${buttons} approve buttons`);
  await vpage.screenshot({ path: `${out}/recommendations-viewer.png`, fullPage: true });
  console.log("DONE");
} catch (err) {
  for (const ctx of browser.contexts()) {
    for (const p of ctx.pages()) {
      console.error(`page ${p.url()}:\n${(await p.content()).slice(0, 2000)}`);
      await p.screenshot({ path: `${out}/failure-${Date.now()}.png` }).catch(() => {});
    }
  }
  throw err;
} finally {
  await browser.close();
}
process.exit(0);
