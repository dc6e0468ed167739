// The web console in a real browser (Chromium, headless, through
// playwright-core): each page's main action, and a screenshot of each page.
//
// Run by crates/cli/tests/it/update_console.rs against a real provider:
//   BASE_URL  the provider (http://127.0.0.1:PORT)
//   USER, PASSWORD  an authorized user
//   UPDATE_ID  an update in Pre-Approval, to mark GA
//   BUNDLE  a signed .tbundle to upload
//   SHOTS  the folder for the screenshots
//   CHROMIUM  the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE_URL');
const SHOTS = env('SHOTS');
fs.mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox'],
});
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(15000);
// The console's confirm() dialogs (clear the log, delete a group) are accepted.
page.on('dialog', (d) => d.accept());

const step = (name) => console.log(`step: ${name}`);
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
const msg = async () => (await page.locator('p.msg').textContent()) ?? '';

step('a page without a session goes to the login page');
await page.goto(`${BASE}/console/report`);
assert.match(page.url(), /\/console\/login\?next=/);
await shot('login');

step('log on');
await page.fill('input[name=user]', env('USER'));
await page.fill('input[name=password]', env('PASSWORD'));
await Promise.all([page.waitForURL(/\/console\/report/), page.click('button[type=submit]')]);
for (const [p, name] of [['about', 'about'], ['activity', 'activity'], ['report', 'report'], ['config', 'configuration'], ['machines', 'machines'], ['groups', 'groups'], ['updates', 'updates']]) {
  await page.goto(`${BASE}/console/${p}`);
  assert.equal(await page.locator('h1').textContent(), name[0].toUpperCase() + name.slice(1));
  await shot(name);
}

step('Updates: mark an update GA');
const id = env('UPDATE_ID');
await page.goto(`${BASE}/console/updates`);
const row = page.locator(`#update-${id}`);
assert.equal(await row.locator('.state').textContent(), 'Pre-Approval');
await row.locator('select[name=state]').selectOption('GA');
await Promise.all([page.waitForURL(/msg=/), row.locator('form:has(select[name=state]) button').click()]);
assert.equal(await page.locator(`#update-${id} .state`).textContent(), 'GA');
assert.match(await msg(), /is now GA/);

step('Updates: High Priority on');
await Promise.all([page.waitForURL(/msg=/), page.locator(`#update-${id} form:has(input[name=high]) button`).click()]);
assert.equal(await page.locator(`#update-${id} .priority`).textContent(), 'yes');

step('Updates: upload a bundle with progress');
await page.setInputFiles('#bundle', env('BUNDLE'));
await Promise.all([page.waitForURL(/msg=Added/, { timeout: 60000 }), page.click('#upload button[type=submit]')]);
assert.match(await msg(), /^Added /);
assert.equal(await page.locator('#updates tr').count(), 3, 'two updates and the header');
await shot('updates-after');

step('Groups: create North');
await page.goto(`${BASE}/console/groups`);
await page.fill('#create input[name=name]', 'North');
await Promise.all([page.waitForURL(/groups\/North/), page.click('#create button')]);

step('Groups: add two members through the members dialog');
await page.click('#members-dialog summary');
await page.fill('#members-dialog input[name=name_contains]', 'ws000000');
await page.fill('#members-dialog input[name=ip_contains]', '');
await Promise.all([page.waitForURL(/name_contains=/), page.click('#members-dialog form[method=get] button')]);
const boxes = page.locator('#add input[name=id]');
assert.ok((await boxes.count()) >= 2);
await boxes.nth(0).check();
await boxes.nth(1).check();
await Promise.all([page.waitForURL(/msg=Added/), page.click('#add button[type=submit]')]);
assert.equal(await page.locator('#members td.member').count(), 2);
await shot('group');

step('Groups: remove a member');
const kept = await page.locator('#members td.member').nth(1).textContent();
await page.locator('#members input[name=id]').nth(0).check();
await Promise.all([page.waitForURL(/msg=Removed/), page.click('#members button[type=submit]')]);
assert.equal(await page.locator('#members td.member').count(), 1);

step('Groups: delete North; its member is in the default group');
await Promise.all([page.waitForURL(/msg=Deleted/), page.click('#delete button')]);
assert.equal(await page.locator('#groups td.name').count(), 1);
await page.goto(`${BASE}/console/machines?search=${encodeURIComponent(kept)}`);
assert.equal(await page.locator('#machines td.group').first().textContent(), 'Default');

step('Report: filter, and find the filter remembered');
await page.goto(`${BASE}/console/report`);
await page.selectOption('#filter select[name=since]', '2w');
await Promise.all([page.waitForURL(/since=2w/), page.click('#filter button')]);
await page.goto(`${BASE}/console/about`);
await page.goto(`${BASE}/console/report`);
assert.equal(await page.locator('#filter select[name=since]').inputValue(), '2w');
await page.click('#NeedsAttention');
await page.waitForURL(/status=NeedsAttention/);

step('Activity: export as CSV');
await page.goto(`${BASE}/console/activity`);
const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
const csv = fs.readFileSync(await download.path(), 'utf8');
assert.match(csv, /^time,machine,application,release,patch,status,description/);
assert.ok(csv.trim().split('\n').length > 1, 'entries exported');

step('Activity: clear');
await Promise.all([page.waitForURL(/msg=Cleared/), page.click('#clear button')]);
assert.equal(await page.locator('#activity tr').count(), 1, 'only the header row');

step('Configuration: Manage Database refuses what is not PostgreSQL');
await page.goto(`${BASE}/console/config`);
await page.click('#manage-database summary');
assert.match(await page.locator('#switchover-b').textContent(), /none chosen/);
await page.fill('#manage-database input[name=location]', 'mysql://db.example.com/iupdate');
const [refused] = await Promise.all([page.waitForResponse(/config\/database/), page.click('#manage-database button[value=copy]')]);
assert.equal(refused.status(), 422);
assert.match(await page.locator('p.err').textContent(), /PostgreSQL/);

if (process.env.SHARED_DB) {
  step('Configuration: Manage Database copies into the shared database and uses it');
  await page.goto(`${BASE}/console/config`);
  await page.click('#manage-database summary');
  await page.fill('#manage-database input[name=location]', process.env.SHARED_DB);
  await Promise.all([page.waitForURL(/msg=Copy/), page.click('#manage-database button[value=copy]')]);
  assert.match(await page.locator('#database').textContent(), /^postgres:\/\//);
  await page.click('#manage-database summary');
  assert.match(await page.locator('#switchover-b').textContent(), /Copy/);
  await shot('configuration-database');
} else {
  console.log('skipped: Manage Database Copy (no SHARED_DB: set TRANSIT_TEST_PG)');
}

step('Configuration: add a peer (+), Apply, remove it (−), Apply');
await page.goto(`${BASE}/console/config`);
await page.fill('#add-peer input[name=host_0]', 'peer1.example.com');
await Promise.all([page.waitForURL(/msg=/), page.click('#add-peer button[type=submit]')]);
const peer = page.locator('#peers tr', { hasText: 'peer1.example.com' });
assert.equal(await peer.locator('.mark').textContent(), '+');
await shot('configuration-pending');
await Promise.all([page.waitForURL(/msg=Applied/), page.click('#apply button[value=apply]')]);
assert.equal(await peer.locator('.mark').textContent(), '');
await Promise.all([page.waitForURL(/msg=/), peer.locator('button').click()]);
assert.equal(await peer.locator('.mark').textContent(), '−');
await Promise.all([page.waitForURL(/msg=Applied/), page.click('#apply button[value=apply]')]);
assert.equal(await page.locator('#peers tr', { hasText: 'peer1.example.com' }).count(), 0);

step('Configuration: add a user (+), Apply, remove the user (−), Apply');
await page.fill('#add-user input[name=name]', 'bob');
await page.fill('#add-user input[name=password]', 'bobs password');
await Promise.all([page.waitForURL(/msg=/), page.click('#add-user button[type=submit]')]);
const bob = page.locator('#users tr', { hasText: 'bob' });
assert.equal(await bob.locator('.mark').textContent(), '+');
await Promise.all([page.waitForURL(/msg=Applied/), page.click('#apply button[value=apply]')]);
assert.equal(await bob.locator('.mark').textContent(), '');
await Promise.all([page.waitForURL(/msg=/), bob.locator('button').click()]);
assert.equal(await bob.locator('.mark').textContent(), '−');
await Promise.all([page.waitForURL(/msg=Applied/), page.click('#apply button[value=apply]')]);
assert.equal(await page.locator('#users tr', { hasText: 'bob' }).count(), 0);

step('log off');
await Promise.all([page.waitForURL(/\/console\/login/), page.click('nav form button')]);
await page.goto(`${BASE}/console/about`);
assert.match(page.url(), /\/console\/login/);

await browser.close();
console.log('browser test passed');
