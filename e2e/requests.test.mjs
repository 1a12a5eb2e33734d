// Records requests in a real browser, end to end (issue #5): a resident
// files a request on the public form, the clerk works it from the queue
// (notes, a search of the archive, attaching, a response with a letter and
// a release bundle), and the resident follows it on the status page.
// scripts/e2e.sh captured a fake Mastodon account whose road-closure post
// once named the "parade": that is what the clerk finds and releases.
//
// The tests run in order and share the first request's tracking number.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, newPage, signIn, BASE_URL } from './helpers.mjs';

let browser;
before(async () => {
  assert.ok(process.env.E2E_SEEDED, 'the archive is not seeded: run the browser tests through scripts/e2e.sh');
  browser = await launch();
});
after(async () => { await browser?.close(); });

// The resident of the main story. Their contact details must never reach
// the public log, and the internal note must never reach them.
const resident = {
  name: 'Rosalind Quimby',
  address: '41 Canal Street\nClinton, UT 84015',
  phone: '801-555-0142',
  email: 'rosalind.quimby@example.org',
  description: 'Every post about the parade route and road closures on the city Mastodon account, with the comments.',
};
const INTERNAL_NOTE = 'internal: check with PD';
const PUBLIC_MESSAGE = 'We are gathering the records';
const TRACKING = /^GRAMA-\d{4}-\d{6}$/;
let tracking; // the main request's tracking number, set by the filing test
let filedDue; // and its due date, as the confirmation showed it

// A page's problems, less the console lines Chrome writes for a document
// answered with the given HTTP status (a form re-rendered with 422, ...).
const except = (problems, ...statuses) => problems.filter((p) => !statuses.some((s) => p.includes(`status of ${s}`)));

// submit clicks a button and waits for the page the form's post leads to.
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), button.click()]);
}

// clerkPage is a fresh page with the clerk signed in.
async function clerkPage(problems) {
  const page = await newPage(browser, problems);
  await signIn(page);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.waitForLoadState('load');
  return page;
}

// openRequest goes from the nav's queue link to the request's page. It
// waits for each page to load, so the next navigation does not cut it short.
async function openRequest(page, number) {
  await Promise.all([page.waitForURL((u) => u.pathname === '/clerk/requests'),
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests queue' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Records requests' }).waitFor();
  const link = page.getByRole('table').getByRole('link', { name: number, exact: true });
  await Promise.all([page.waitForURL((u) => u.pathname === `/clerk/requests/${number}`), link.click()]);
  await page.getByRole('heading', { level: 1, name: `Request ${number}` }).waitFor();
}

// fillRequest types a filing into the public form through its labels.
async function fillRequest(page, f) {
  await page.getByLabel('Your name').fill(f.name);
  await page.getByLabel('Mailing address').fill(f.address);
  await page.getByLabel('Daytime telephone').fill(f.phone);
  if (f.email) {
    await page.getByLabel(/^E-mail/).fill(f.email);
    await page.getByLabel('I agree to be contacted by e-mail about this request').check();
  }
  await page.getByLabel('Describe the records').fill(f.description);
}

// fileRequest files a complete request and returns its tracking number.
async function fileRequest(page, f) {
  await page.goto(`${BASE_URL}/requests/new`);
  await fillRequest(page, f);
  await submit(page, page.getByRole('button', { name: 'Send request' }));
  const number = (await page.locator('#tracking-number').innerText()).trim();
  assert.match(number, TRACKING);
  return number;
}

// describedBy is the text of the elements an element's aria-describedby names.
async function describedBy(locator) {
  return locator.evaluate((el) => (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent.trim() ?? `(no element #${id})`));
}

// lookUp checks a request on the public status page, as the resident does.
async function lookUp(page, number, email) {
  await page.goto(`${BASE_URL}/requests/status`);
  await page.getByLabel('Tracking number').fill(number);
  await page.getByLabel('E-mail you gave').fill(email);
  await submit(page, page.getByRole('button', { name: 'Check status' }));
}

test('an empty request form comes back with an error summary, each missing field marked and described, and what was typed kept', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await page.goto(`${BASE_URL}/requests/new`);
  await page.getByRole('heading', { level: 1, name: 'Request public records' }).waitFor();
  await submit(page, page.getByRole('button', { name: 'Send request' }));

  const summary = page.getByRole('alert');
  await summary.waitFor();
  assert.match(await summary.innerText(), /Please correct the marked fields/);
  const listed = await summary.getByRole('listitem').allInnerTexts();
  assert.deepEqual(listed, ['Your name: is required', 'Mailing address: is required',
    'Daytime telephone: is required', 'Describe the records: is required']);
  for (const [label, id] of [['Your name', 'name'], ['Mailing address', 'mailing_address'],
    ['Daytime telephone', 'phone'], ['Describe the records', 'description']]) {
    const field = page.getByLabel(label);
    assert.equal(await field.getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
    assert.ok((await describedBy(field)).includes('is required'), `${label}'s message is tied to it`);
    // The summary links to the field.
    assert.equal(await summary.locator(`a[href="#${id}"]`).count(), 1);
  }
  // Optional fields are not marked.
  assert.equal(await page.getByLabel(/^E-mail/).getAttribute('aria-invalid'), null);
  await page.screenshot({ path: 'artifacts/request-form-errors.png', fullPage: true });

  // Typed a name, address and description, forgot the phone: only the
  // phone is wrong, and the rest is still there.
  await fillRequest(page, { ...resident, phone: '', email: '' });
  await submit(page, page.getByRole('button', { name: 'Send request' }));
  await page.getByRole('alert').waitFor();
  assert.deepEqual(await page.getByRole('alert').getByRole('listitem').allInnerTexts(), ['Daytime telephone: is required']);
  assert.equal(await page.getByLabel('Your name').inputValue(), resident.name);
  assert.equal(await page.getByLabel('Mailing address').inputValue(), resident.address);
  assert.equal(await page.getByLabel('Describe the records').inputValue(), resident.description);
  assert.equal(await page.getByLabel('Your name').getAttribute('aria-invalid'), null);
  assert.equal(await page.getByLabel('Daytime telephone').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(await describedBy(page.getByLabel('Daytime telephone')), ['is required']);

  // An e-mail without the consent box: the box is marked, the message tied to it.
  await page.getByLabel('Daytime telephone').fill(resident.phone);
  await page.getByLabel(/^E-mail/).fill(resident.email);
  await submit(page, page.getByRole('button', { name: 'Send request' }));
  await page.getByRole('alert').waitFor();
  const consent = page.getByLabel('I agree to be contacted by e-mail about this request');
  assert.equal(await consent.getAttribute('aria-invalid'), 'true');
  assert.match((await describedBy(consent)).join(' '), /must be checked/);
  assert.equal(await page.getByLabel(/^E-mail/).inputValue(), resident.email);
  assert.equal(await page.getByLabel('Daytime telephone').inputValue(), resident.phone);
  assert.deepEqual(except(problems, 422), []);
  await page.close();
});

test('a resident files a complete request with the keyboard and gets a tracking number and the lawful due date', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await page.goto(`${BASE_URL}/requests/new`);
  await fillRequest(page, resident);
  await page.getByRole('group', { name: /^Platforms/ }).getByLabel('mastodon', { exact: true }).check();
  await page.getByRole('group', { name: 'How you want the records' }).getByLabel('Electronic copies (download or e-mail)').check();
  await page.screenshot({ path: 'artifacts/request-form-filled.png', fullPage: true });

  // From the last field, Tab reaches the send button (the hidden trap
  // field is out of the tab order) and Enter sends the form.
  await page.getByLabel('Why fees should be waived').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Send request');
  await Promise.all([page.waitForURL(/\/requests\/filed\//), page.keyboard.press('Enter')]);

  await page.getByRole('heading', { level: 1, name: 'Request received' }).waitFor();
  const confirmation = page.getByRole('status');
  tracking = (await confirmation.locator('#tracking-number').innerText()).trim();
  assert.match(tracking, TRACKING);
  const received = (await page.locator('#received').innerText()).trim();
  const due = (await page.locator('#due-date').innerText()).trim();
  assert.match(received, /^\d{4}-\d\d-\d\d$/);
  assert.match(due, /^\d{4}-\d\d-\d\d$/);
  const api = await page.request.get(`${BASE_URL}/api/v1/calendar/due-date?received=${received}`);
  assert.equal(api.status(), 200);
  const want = await api.json();
  assert.equal(want.business_days, 10);
  assert.equal(due, want.due_date, `the due date of a request received ${received}`);
  filedDue = due;
  assert.match(await confirmation.innerText(), /10 business days/);
  await page.screenshot({ path: 'artifacts/request-filed.png', fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the public calculator counts business days across Pioneer Day, Christmas and New Year\'s Day', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await page.goto(`${BASE_URL}/calendar`);
  // Day 0 is the day of receipt; Saturdays, Sundays and Utah's legal
  // holidays are not counted.
  // 2026-07-20 (Mon): 21 22 23, Fri 24 Pioneer Day, 27 28 29 30 31, Aug 3, Aug 4 = 10.
  // 2026-12-18 (Fri): 21 22 23 24, Fri 25 Christmas, 28 29 30 31, Fri Jan 1
  // New Year's Day, Jan 4, Jan 5 = 10.
  for (const [received, due, holidays] of [['2026-07-20', '2026-08-04', [/2026-07-24 Pioneer Day/]],
    ['2026-12-18', '2027-01-05', [/2026-12-25 Christmas/]]]) {
    await page.getByLabel('Request received on').fill(received);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('received') === received),
      page.getByRole('button', { name: 'Work out the due date' }).click()]);
    const answer = page.getByRole('status');
    assert.match(await answer.innerText(), new RegExp(`received on ${received} is due by ${due} \\(10 business days\\)`));
    assert.equal(await page.locator('#due-date').innerText(), due);
    const listed = await page.locator('ul.holidays').innerText();
    for (const h of holidays) assert.match(listed, h);
    // The API agrees with the page.
    const api = await (await page.request.get(`${BASE_URL}/api/v1/calendar/due-date?received=${received}`)).json();
    assert.equal(api.due_date, due);
  }
  // New Year's Day 2027 is in the calendar too.
  await page.goto(`${BASE_URL}/calendar?year=2027`);
  assert.match(await page.locator('ul.holidays').innerText(), /2027-01-01 New Year/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the resident checks the request with the tracking number and e-mail; a wrong e-mail reveals nothing', async () => {
  assert.ok(tracking, 'the filing test ran');
  const problems = [];
  const page = await newPage(browser, problems);
  await lookUp(page, tracking, resident.email);
  await page.getByRole('heading', { level: 2, name: `Request ${tracking}` }).waitFor();
  assert.equal(await page.locator('#status').innerText(), 'Received');
  assert.equal(await page.locator('#due-date').innerText(), filedDue);
  assert.match(await page.locator('section.status').innerText(), /No messages yet/);

  await lookUp(page, tracking, 'someone.else@example.org');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /No request matches that tracking number with that e-mail or telephone/);
  assert.equal(await page.locator('section.status').count(), 0);
  const body = await page.locator('main').innerText();
  for (const secret of [resident.name, resident.phone, 'Received', 'Response due']) {
    assert.ok(!body.includes(secret), `the not-found page does not show ${secret}`);
  }
  assert.deepEqual(except(problems, 404), []);
  await page.close();
});

test('a script in a request is shown to the clerk as text and never runs', async () => {
  const problems = [];
  const dialogs = [];
  const payload = 'Script test <script>alert(1)</script> and <img src=x onerror=alert(1)> end';
  const filer = await newPage(browser, problems);
  const number = await fileRequest(filer, {
    name: 'Mallory <b>Bold</b>', address: '1 Test Way\nClinton, UT 84015', phone: '801 555 0199', description: payload,
  });
  await filer.close();

  const page = await clerkPage(problems);
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await openRequest(page, number);
  const description = page.locator('#description');
  assert.equal(await description.innerText(), payload);
  assert.equal(await description.locator('script, img').count(), 0);
  assert.equal(await page.locator('main b').count(), 0, 'the name\'s markup is text');
  assert.ok((await page.locator('main').innerText()).includes('Mallory <b>Bold</b>'));
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the clerk notes, finds and attaches records, approves, and the letter names the request', async () => {
  assert.ok(tracking, 'the filing test ran');
  const problems = [];
  const page = await clerkPage(problems);
  await openRequest(page, tracking);
  assert.equal(await page.locator('#status').innerText(), 'Received');

  // An internal note, then a public message.
  const notes = page.getByRole('region', { name: 'Notes and messages' });
  await notes.getByLabel('Text', { exact: true }).fill(INTERNAL_NOTE);
  await submit(page, notes.getByRole('button', { name: 'Add' }));
  await page.locator('#notice').waitFor();
  await notes.getByLabel('Text', { exact: true }).fill(PUBLIC_MESSAGE);
  await notes.getByRole('checkbox', { name: /^Public message/ }).check();
  await submit(page, notes.getByRole('button', { name: 'Add' }));
  const messages = notes.locator('ol.messages > li');
  assert.equal(await messages.count(), 2);
  assert.match(await notes.locator('li.internal').innerText(), new RegExp(`Internal note[\\s\\S]*${INTERNAL_NOTE}`));
  assert.match(await notes.locator('li.public').innerText(), new RegExp(`Public message[\\s\\S]*${PUBLIC_MESSAGE}`));

  // Find the responsive records in the archive and attach them.
  const find = page.getByRole('region', { name: 'Find responsive records' });
  await find.getByLabel('Words to find').fill('parade');
  await Promise.all([page.waitForURL((u) => u.searchParams.get('q') === 'parade'), find.getByLabel('Words to find').press('Enter')]);
  assert.match(await page.locator('#search-total').innerText(), /^1 found/);
  const pick = find.getByRole('checkbox');
  assert.equal(await pick.count(), 1);
  assert.ok(await pick.isChecked());
  await submit(page, find.getByRole('button', { name: 'Attach selected records' }));
  await page.getByRole('heading', { name: 'Attached records (1)' }).waitFor();
  const attached = page.getByRole('region', { name: 'Attached records (1)' });
  assert.match(await attached.innerText(), /found by q=parade/);
  await page.screenshot({ path: 'artifacts/request-clerk.png', fullPage: true });

  // Approve.
  const respond = page.getByRole('region', { name: 'Respond' });
  await respond.getByLabel('Approve: release the attached records').check();
  await submit(page, respond.getByRole('button', { name: 'Send response' }));
  await page.locator('#notice').waitFor();
  assert.equal(await page.locator('#status').innerText(), 'Fulfilled');
  const letters = page.getByRole('region', { name: 'Letters' });
  assert.match(await letters.innerText(), /Records Request Approved/);
  assert.equal(await letters.getByRole('link', { name: 'Release bundle (ZIP)' }).count(), 1);
  await page.screenshot({ path: 'artifacts/request-clerk-fulfilled.png', fullPage: true });

  // The letter, as HTML. It is a document of its own, without the site
  // layout's icon link, so the browser asks for /favicon.ico, which is not
  // served: that 404 (and only that) is tolerated here.
  const notFound = [];
  page.on('console', (m) => { if (/status of 404/.test(m.text())) notFound.push(new URL(m.location().url).pathname); });
  await letters.getByRole('link', { name: 'read' }).click();
  await page.waitForURL(/\/files\/letter-\d+\.html$/);
  const letter = await page.locator('body').innerText();
  assert.match(letter, /Records Request Approved/);
  assert.ok(letter.includes(tracking), 'the letter names the tracking number');
  assert.ok(letter.includes(resident.name), 'the letter is addressed to the requester');
  await page.screenshot({ path: 'artifacts/request-letter.png', fullPage: true });
  await page.waitForLoadState('load');
  assert.deepEqual(notFound.filter((p) => p !== '/favicon.ico'), []);
  assert.deepEqual(except(problems, 404), []);
  await page.close();
});

test('the resident sees the response, the public message but not the internal note, and downloads the records as a BagIt ZIP', async () => {
  assert.ok(tracking, 'the filing test ran');
  const problems = [];
  const page = await newPage(browser, problems);
  await lookUp(page, tracking, resident.email);
  const status = page.getByRole('region', { name: `Request ${tracking}` });
  await status.waitFor();
  assert.equal(await page.locator('#status').innerText(), 'Fulfilled');
  const text = await status.innerText();
  assert.ok(text.includes(PUBLIC_MESSAGE), 'the public message is shown');
  assert.ok(!(await page.content()).includes(INTERNAL_NOTE), 'the internal note is not in the page');
  assert.ok(!(await page.content()).includes('check with PD'));

  const letter = status.locator('li.letter');
  assert.equal(await letter.count(), 1);
  assert.equal(await letter.getByRole('heading', { level: 4 }).innerText(), 'Records Request Approved');
  await letter.getByText('Read the letter').click();
  const letterText = letter.locator('details .text');
  await letterText.waitFor();
  assert.ok((await letterText.innerText()).includes(tracking));
  assert.match(await letterText.innerText(), /approved/i);

  const button = page.getByRole('button', { name: /^Download the released records/ });
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  assert.equal(download.suggestedFilename(), `${tracking}-records.zip`);
  const path = `artifacts/${tracking}-records.zip`;
  await download.saveAs(path);
  const zip = await readFile(path);
  assert.equal(zip.subarray(0, 2).toString('latin1'), 'PK');
  const names = zip.toString('latin1');
  assert.ok(names.includes('bagit.txt'), 'the ZIP holds bagit.txt');
  assert.ok(names.includes('manifest-sha256.txt'), 'the ZIP holds manifest-sha256.txt');
  await page.screenshot({ path: 'artifacts/request-status-fulfilled.png', fullPage: true });
  // The form's post turned into a download: Chrome reports that navigation
  // as aborted, which is not a failure.
  assert.deepEqual(problems.filter((p) => p !== `request failed: ${BASE_URL}/requests/status/download`), []);
  await page.close();
});

test('the public log lists the request with its status and determination but no contact details', async () => {
  assert.ok(tracking, 'the filing test ran');
  const problems = [];
  const page = await newPage(browser, problems);
  await page.goto(`${BASE_URL}/requests/status`);
  await Promise.all([page.waitForURL((u) => u.pathname === '/requests/log'),
    page.getByRole('link', { name: 'Public request log' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Public records request log' }).waitFor();
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: tracking, exact: true }) });
  assert.equal(await row.count(), 1);
  const cells = await row.getByRole('cell').allInnerTexts();
  assert.equal(cells[3], 'Fulfilled');
  assert.equal(cells[4], 'Approved');
  const html = await page.content();
  for (const secret of [resident.name, resident.email, resident.phone, '8015550142', 'Canal Street', 'Mallory']) {
    assert.ok(!html.includes(secret), `the log does not show ${secret}`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('a denied request shows the resident the denial letter with the appeal rights and mediation', async () => {
  const problems = [];
  const filer = await newPage(browser, problems);
  const denied = { name: 'Dana Denholm', address: '9 Orchard Lane\nClinton, UT 84015', phone: '(801) 555-0177',
    email: 'dana.denholm@example.org', description: 'Every post and comment about the city budget.' };
  const number = await fileRequest(filer, denied);
  await filer.close();

  const page = await clerkPage(problems);
  await openRequest(page, number);
  const find = page.getByRole('region', { name: 'Find responsive records' });
  await find.getByLabel('Words to find').fill('budget');
  await Promise.all([page.waitForURL((u) => u.searchParams.get('q') === 'budget'), find.getByLabel('Words to find').press('Enter')]);
  await submit(page, find.getByRole('button', { name: 'Attach selected records' }));
  await page.getByRole('heading', { name: /^Attached records \([1-9]\d*\)$/ }).waitFor();
  const respond = page.getByRole('region', { name: 'Respond' });
  await respond.getByLabel('Deny: withhold every attached record').check();
  await respond.getByLabel('Description of what is withheld (denials)').fill('Comments naming private individuals.');
  await respond.getByLabel('Legal citations, one per line (denials)').fill('Utah Code 63G-2-302\nUtah Code 63G-2-305');
  await submit(page, respond.getByRole('button', { name: 'Send response' }));
  await page.locator('#notice').waitFor();
  assert.equal(await page.locator('#status').innerText(), 'Denied');
  await page.close();

  const resident2 = await newPage(browser, problems);
  await lookUp(resident2, number, denied.email);
  assert.equal(await resident2.locator('#status').innerText(), 'Denied');
  assert.match(await resident2.locator('section.status').innerText(), /Appeal by\s+\d{4}-\d\d-\d\d/);
  const letter = resident2.locator('li.letter');
  assert.equal(await letter.getByRole('heading', { level: 4 }).innerText(), 'Notice of Denial of Records Request');
  await letter.getByText('Read the letter').click();
  // The letter's text is wrapped for print: compare it word by word.
  const text = (await letter.locator('details .text').innerText()).replace(/\s+/g, ' ');
  assert.match(text, /Comments naming private individuals\./);
  assert.match(text, /Utah Code 63G-2-302/);
  assert.match(text, /right to appeal this decision to the chief administrative officer, City Manager/);
  assert.match(text, /ask the Government Records Ombudsman to mediate this dispute/);
  assert.equal(await resident2.getByRole('button', { name: /^Download the released records/ }).count(), 0);
  await resident2.screenshot({ path: 'artifacts/request-status-denied.png', fullPage: true });
  assert.deepEqual(problems, []);
  await resident2.close();
});

test('the request form fits a phone screen without sideways scrolling', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await page.setViewportSize({ width: 375, height: 700 });
  await page.goto(`${BASE_URL}/requests/new`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375 + 1, `the page is ${width}px wide on a 375px screen`);
  await page.screenshot({ path: 'artifacts/request-form-phone.png', fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
