// A clerk signs in and out in a real browser.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signIn, BASE_URL, USER } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a wrong password shows an error tied to the form and keeps the username', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await signIn(page, USER, 'not the password');
  const alert = page.getByRole('alert');
  await assert.doesNotReject(alert.waitFor());
  assert.match(await alert.innerText(), /Wrong username or password/);
  assert.equal(await page.getByLabel('Username').inputValue(), USER);
  assert.equal(await page.getByLabel('Username').getAttribute('aria-describedby'), 'login-error');
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
  await page.close();
});

test('signing in shows who is signed in; signing out ends the session', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await signIn(page);
  await page.getByText(`Signed in as ${USER}`).waitFor();
  await page.screenshot({ path: 'artifacts/signed-in.png', fullPage: true });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Staff sign in' }).waitFor();
  // The old session no longer works.
  const cookies = await page.context().cookies(BASE_URL);
  assert.equal(cookies.find((c) => c.name === 'civicarchive_session'), undefined);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the sign-in form works with the keyboard alone', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await page.goto(`${BASE_URL}/login`);
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab'); // header link
  await page.getByLabel('Username').focus();
  await page.keyboard.type(USER);
  await page.keyboard.press('Tab');
  await page.keyboard.type(process.env.E2E_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByText(`Signed in as ${USER}`).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});
