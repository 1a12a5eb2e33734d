// Shared set-up of the browser tests: Debian's chromium through
// playwright-core, against the server scripts/e2e.sh started.
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.BASE_URL;
export const USER = process.env.E2E_USER;
export const PASSWORD = process.env.E2E_PASSWORD;

if (!BASE_URL) {
  throw new Error('BASE_URL is not set: run the browser tests through scripts/e2e.sh');
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // The flags Debian's chromium needs here: no sandbox as root, and no
    // background connections to the outside (this machine has no network).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// newPage opens a page that fails the test on any console error (a CSP
// violation, a script error) or a failed request to our server.
export async function newPage(browser, problems) {
  const page = await browser.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  return page;
}

export async function signIn(page, user = USER, password = PASSWORD) {
  await page.goto(`${BASE_URL}/login`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
