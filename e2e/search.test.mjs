// A clerk searches the archive and opens what was found, in a real browser.
// scripts/e2e.sh captured a fake Mastodon account twice: between the two
// captures the road-closure post was edited (the word "parade" is only in
// its first version) and the comment asking about the library was deleted.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, signIn, BASE_URL } from './helpers.mjs';

let browser;
before(async () => {
  assert.ok(process.env.E2E_SEEDED, 'the archive is not seeded: run the browser tests through scripts/e2e.sh');
  browser = await launch();
});
after(async () => { await browser?.close(); });

// signedIn signs the clerk in and waits for the page after it, so the next
// navigation does not cut that one short.
async function signedIn(page) {
  await signIn(page);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

// search fills the query box and submits the form, as a person would.
async function search(page, words) {
  await page.getByLabel('Words to find').fill(words);
  // Wait for the navigation the submit starts, not the current page's
  // load state (which is already "load" and would race the submit).
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === words),
    page.getByLabel('Words to find').press('Enter'),
  ]);
}

test('a word only in an earlier version finds the edited post, says which version matched, and the item shows both versions', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await signedIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Search' }).click();
  await page.getByRole('heading', { name: 'Search the archive' }).waitFor();
  await search(page, 'parade');

  await page.getByRole('heading', { name: '1 result' }).waitFor();
  const hit = page.locator('li.hit');
  assert.equal(await hit.count(), 1);
  assert.match(await hit.locator('.matched').innerText(), /matched version 1 of 2 \(an earlier version\)/);
  assert.equal(await hit.locator('mark').first().innerText(), 'parade');
  assert.ok(new URL(page.url()).searchParams.get('q') === 'parade', 'the search is a bookmarkable GET');
  await page.screenshot({ path: 'artifacts/search-parade.png', fullPage: true });

  await hit.getByRole('link', { name: /^Post by/ }).click();
  await page.getByRole('heading', { level: 1, name: /^Post by/ }).waitFor();
  const versions = page.locator('li.version');
  assert.equal(await versions.count(), 2);
  assert.match(await versions.nth(0).locator('h3').innerText(), /Version 1 of 2/);
  assert.match(await versions.nth(0).innerText(), /for the parade/);
  assert.match(await versions.nth(1).locator('h3').innerText(), /Version 2 of 2 \(current\)/);
  assert.match(await versions.nth(1).locator('del').first().innerText(), /parade/);
  assert.match(await versions.nth(1).locator('ins').first().innerText(), /street fair/);
  assert.match(await versions.nth(0).innerText(), /sha256 [0-9a-f]{64}/);
  // The link went to the matched version.
  assert.equal(new URL(page.url()).hash, '#version-1');
  // The thread: this post, its comments, the deleted one marked.
  assert.equal(await page.locator('ul.thread li[aria-current="page"]').count(), 1);
  assert.ok(await page.locator('ul.thread .mark.deleted').count() >= 1, 'the deleted comment is marked in the thread');
  // The road-closure map, served by the media route.
  const img = page.locator('ul.media img');
  assert.equal(await img.count(), 1);
  const media = await page.request.get(new URL(await img.getAttribute('src'), BASE_URL).href);
  assert.equal(media.status(), 200);
  assert.equal(media.headers()['content-type'], 'image/jpeg');
  await page.screenshot({ path: 'artifacts/item-edited.png', fullPage: true });
  await page.setViewportSize({ width: 420, height: 900 });
  await page.screenshot({ path: 'artifacts/item-edited-narrow.png', fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a word only in a deleted comment finds it, marked deleted', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await signedIn(page);
  await page.goto(`${BASE_URL}/search`);
  await search(page, 'library');
  await page.getByRole('heading', { name: '1 result' }).waitFor();
  const hit = page.locator('li.hit');
  assert.match(await hit.locator('.mark.deleted').innerText(), /^deleted \d{4}-\d\d-\d\d/);
  assert.match(await hit.getByRole('link').innerText(), /^Comment by Bob/);
  await page.screenshot({ path: 'artifacts/search-library.png', fullPage: true });
  await hit.getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: 'Comment by Bob' }).waitFor();
  assert.match(await page.locator('p.marks').innerText(), /deleted: gone from mastodon/);
  assert.match(await page.locator('li.version').innerText(), /Will the library be open\?/);
  await page.screenshot({ path: 'artifacts/item-deleted.png', fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a facet link narrows the results and keeps the query', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await signedIn(page);
  await page.goto(`${BASE_URL}/search`);
  await search(page, 'budget');
  const total = Number((await page.locator('#total').innerText()).split(' ')[0]);
  assert.ok(total > 1, `"budget" finds several items (found ${total})`);
  const facets = page.getByRole('complementary', { name: 'Narrow the results' });
  const comment = facets.getByRole('link', { name: /^comment \(\d+\)/ });
  const want = Number((await comment.innerText()).match(/\((\d+)\)/)[1]);
  await Promise.all([page.waitForURL(/[?&]kind=comment/), comment.click()]);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('kind'), 'comment');
  assert.equal(url.searchParams.get('q'), 'budget');
  assert.equal(await page.locator('#total').innerText(), `${want} ${want === 1 ? 'result' : 'results'}`);
  for (const title of await page.locator('li.hit h3').allInnerTexts()) {
    assert.match(title, /^Comment/);
  }
  assert.equal(await facets.getByRole('link', { name: /^✓ comment/ }).getAttribute('aria-current'), 'true');
  await page.screenshot({ path: 'artifacts/search-facet.png', fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a malformed query shows the parser\'s message tied to the query box', async () => {
  const problems = [];
  const page = await newPage(browser, problems);
  await signedIn(page);
  await page.goto(`${BASE_URL}/search`);
  await search(page, '"unterminated');
  const alert = page.locator('#q-error');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Cannot read this query/);
  assert.match(await page.getByLabel('Words to find').getAttribute('aria-describedby'), /\bq-error\b/);
  assert.equal(await page.getByLabel('Words to find').inputValue(), '"unterminated');
  await page.screenshot({ path: 'artifacts/search-bad-query.png', fullPage: true });
  assert.deepEqual(problems.filter((p) => !p.includes('400')), []);
  await page.close();
});
