// What the browser scripts share: their settings from the environment
// (set by the Go test or benchmark that starts them) and Debian's Chromium
// launched through playwright-core, never a downloaded browser.
import { chromium } from "playwright-core";

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

export const launch = () =>
  chromium.launch({
    executablePath: env("CHROMIUM"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
