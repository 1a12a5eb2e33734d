// The social media coordinator in a real browser (issue #7): the dashboard
// with its server-drawn charts, an account's compliance gaps closed by
// naming custodians and a designated user, the public directory, and the
// review of a comment the screening rules flagged in a real capture
// (scripts/e2e/seed's dog-park thread), removed with a printable record.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signIn, BASE_URL } from './helpers.mjs';

let browser;
before(async () => {
  assert.ok(process.env.E2E_SEEDED, 'the archive is not seeded: run the browser tests through scripts/e2e.sh');
  browser = await launch();
});
after(async () => { await browser?.close(); });

const except = (problems, ...statuses) => problems.filter((p) => !statuses.some((s) => p.includes(`status of ${s}`)));

async function coordinatorPage(problems) {
  const page = await newPage(browser, problems);
  await signIn(page, process.env.E2E_COORD, process.env.E2E_COORD_PASSWORD);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.waitForLoadState('load');
  return page;
}

async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), button.click()]);
}

test('the dashboard shows health, gaps and two charts drawn by the server', async () => {
  const problems = [];
  const page = await coordinatorPage(problems);
  await page.goto(`${BASE_URL}/coordinator`);
  await page.getByRole('heading', { level: 1, name: 'Social media coordinator' }).waitFor();
  const charts = page.getByRole('img');
  assert.equal(await charts.count(), 2);
  assert.match(await charts.nth(0).getAttribute('aria-labelledby'), /title/);
  assert.ok(await page.locator('svg rect.bar').count() > 0, 'the volume chart has bars');
  const row = page.getByRole('row').filter({ hasText: '@clintoncity' });
  assert.match(await row.innerText(), /custodians \(at least 3 required\)/);
  assert.match(await row.innerText(), /no designated users/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('naming custodians and a designated user closes those gaps; the directory lists the contact', async () => {
  const problems = [];
  const page = await coordinatorPage(problems);
  await page.goto(`${BASE_URL}/coordinator`);
  await submit(page, page.getByRole('link', { name: '@clintoncity' }));
  await page.getByRole('heading', { level: 1 }).waitFor();
  const custodians = page.getByRole('region', { name: 'Custodians (policy 3.5.3)' });
  for (const name of ['Avery Ruiz', 'Blake Chen', 'Casey Moss']) {
    await custodians.getByLabel('Name').fill(name);
    await submit(page, custodians.getByRole('button', { name: 'Add custodian' }));
    assert.match(await page.getByRole('status').innerText(), /custodian added/);
  }
  // A password typed where a name goes is refused, and kept out.
  await custodians.getByLabel('Name').fill('Dana, password: hunter2');
  await submit(page, custodians.getByRole('button', { name: 'Add custodian' }));
  assert.match(await page.getByRole('alert').innerText(), /looks like a password/);
  assert.ok(!(await page.content()).includes('hunter2'), 'the refused password is not shown back');

  const users = page.getByRole('region', { name: 'Designated users (policy 3.2)' });
  await users.getByLabel('Name').fill('Jordan Lee');
  await users.getByLabel('Capability').selectOption('publish');
  await submit(page, users.getByRole('button', { name: 'Add designated user' }));
  assert.match(await users.getByRole('row').filter({ hasText: 'Jordan Lee' }).innerText(), /missing/);
  await submit(page, users.getByRole('button', { name: 'Record acknowledgment' }));
  assert.match(await users.getByRole('row').filter({ hasText: 'Jordan Lee' }).innerText(), /acknowledged/);

  const gaps = await page.getByRole('region', { name: 'Compliance gaps' }).innerText();
  assert.doesNotMatch(gaps, /custodian|designated/);

  const contact = page.getByRole('region', { name: 'Directory contact (policy 3.5.6)' });
  await contact.getByLabel('Official contact').fill('Communications Office');
  await contact.getByLabel('Contact e-mail').fill('comms@clintoncity.gov');
  await submit(page, contact.getByRole('button', { name: 'Save contact' }));

  // The public directory, as a resident sees it (no sign-in).
  const pub = await newPage(browser, problems);
  await pub.goto(`${BASE_URL}/directory`);
  const listed = pub.getByRole('row').filter({ hasText: 'clintoncity' });
  assert.match(await listed.innerText(), /Communications Office/);
  assert.equal(await listed.getByRole('link', { name: 'comms@clintoncity.gov' }).getAttribute('href'), 'mailto:comms@clintoncity.gov');
  assert.deepEqual(except(problems, 422), []);
  await pub.close();
  await page.close();
});

test('a flagged comment from the capture is removed, and its removal record prints', async () => {
  const problems = [];
  const page = await coordinatorPage(problems);
  await page.goto(`${BASE_URL}/coordinator/review`);
  const entry = page.getByRole('listitem').filter({ hasText: 'dog park rules are d*mn stupid' });
  assert.match(await entry.innerText(), /A — Profan/);
  assert.equal(await page.getByRole('listitem').filter({ hasText: 'Nice work on the dog park' }).count(), 0, 'the clean comment is not flagged');
  // Remove without a reason: refused, nothing decided.
  await entry.getByLabel('Reason').fill('');
  await entry.getByRole('button', { name: 'Remove' }).evaluate((b) => b.form.noValidate = true);
  await submit(page, entry.getByRole('button', { name: 'Remove' }));
  assert.match(await page.getByRole('alert').innerText(), /reason is required/);
  const again = page.getByRole('listitem').filter({ hasText: 'dog park rules are d*mn stupid' });
  await again.getByLabel('Reason').fill('Profanity (policy 3.4.3 A)');
  await submit(page, again.getByRole('button', { name: 'Remove' }));
  assert.match(await page.getByRole('status').innerText(), /removed; its removal record is ready/);
  const pdfLink = page.getByRole('link', { name: 'Print the removal record (PDF)' });
  const pdf = await page.request.get(new URL(await pdfLink.getAttribute('href'), BASE_URL).toString());
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
  await page.goto(`${BASE_URL}/coordinator/removals`);
  const rec = page.getByRole('row').filter({ hasText: 'Rex Owner' });
  assert.match(await rec.innerText(), /removed by decision: Profanity \(policy 3\.4\.3 A\)/);
  assert.deepEqual(except(problems, 422), []);
  await page.close();
});
