// The web console in Firefox: stock Firefox ESR (Debian's firefox-esr),
// headless, driven over WebDriver BiDi by puppeteer-core. The same journey
// as console.mjs (Chromium, playwright-core), written with puppeteer's API.
//
// Run by crates/cli/tests/it/update_console.rs against a real provider:
//   BASE_URL  the provider (http://127.0.0.1:PORT)
//   USER, PASSWORD  an authorized user
//   UPDATE_ID  an update in Pre-Approval, to mark GA
//   BUNDLE  a signed .tbundle to upload
//   SHOTS  the folder for the screenshots (firefox-<page>.png)
//   FIREFOX  the browser (default /usr/bin/firefox-esr)
//   SHARED_DB  a PostgreSQL URL for Manage Database's Copy (optional)
import puppeteer from 'puppeteer-core';
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
const DOWNLOADS = fs.mkdtempSync(path.join(SHOTS, '.firefox-downloads-'));

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: env('FIREFOX', '/usr/bin/firefox-esr'),
  headless: true,
  defaultViewport: { width: 1280, height: 800 },
});
// A context of its own, so that downloads land in DOWNLOADS
// (WebDriver BiDi's browser.setDownloadBehavior).
const context = await browser.createBrowserContext({
  downloadBehavior: { policy: 'allow', downloadPath: DOWNLOADS },
});
const page = await context.newPage();
page.setDefaultTimeout(15000);
// The console's confirm() dialogs (clear the log, delete a group) are accepted.
page.on('dialog', (d) => d.accept());

const step = (name) => console.log(`step: ${name}`);
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `firefox-${name}.png`), fullPage: true });
const text = (sel) => page.$eval(sel, (e) => e.textContent);
const count = (sel) => page.$$eval(sel, (es) => es.length);
const fill = (sel, value) => page.locator(sel).fill(value);
const msg = () => text('p.msg');
// Does what `act` does (a click that submits or follows a link), waits for
// the page it leads to, and checks that page's URL; returns the response.
const navigate = async (act, url) => {
  const [response] = await Promise.all([page.waitForNavigation(), act()]);
  assert.match(page.url(), url);
  return response;
};
const click = (sel, url, options) => navigate(() => page.locator(sel).setTimeout(options?.timeout ?? 15000).click(), url);
// The row of table `table` holding `name` (null without one), and its mark
// (+, − or nothing).
const row = async (table, name) => {
  for (const r of await page.$$(`${table} tr`)) {
    if ((await r.evaluate((e) => e.textContent)).includes(name)) return r;
  }
  return null;
};
const mark = async (table, name) => {
  const r = await row(table, name);
  return r && r.$eval('.mark', (e) => e.textContent);
};

step('a page without a session goes to the login page');
await page.goto(`${BASE}/console/report`);
assert.match(page.url(), /\/console\/login\?next=/);
await shot('login');

step('log on');
await fill('input[name=user]', env('USER'));
await fill('input[name=password]', env('PASSWORD'));
await click('button[type=submit]', /\/console\/report/);
for (const [p, name] of [['about', 'about'], ['activity', 'activity'], ['report', 'report'], ['config', 'configuration'], ['machines', 'machines'], ['groups', 'groups'], ['updates', 'updates']]) {
  await page.goto(`${BASE}/console/${p}`);
  assert.equal(await text('h1'), name[0].toUpperCase() + name.slice(1));
  await shot(name);
}

step('Updates: mark an update GA');
const id = env('UPDATE_ID');
await page.goto(`${BASE}/console/updates`);
assert.equal(await text(`#update-${id} .state`), 'Pre-Approval');
await page.select(`#update-${id} select[name=state]`, 'GA');
await click(`#update-${id} form:has(select[name=state]) button`, /msg=/);
assert.equal(await text(`#update-${id} .state`), 'GA');
assert.match(await msg(), /is now GA/);

step('Updates: High Priority on');
await click(`#update-${id} form:has(input[name=high]) button`, /msg=/);
assert.equal(await text(`#update-${id} .priority`), 'yes');

step('Updates: upload a bundle with progress');
const input = await page.$('#bundle');
await input.uploadFile(env('BUNDLE'));
await click('#upload button[type=submit]', /msg=Added/, { timeout: 60000 });
assert.match(await msg(), /^Added /);
assert.equal(await count('#updates tr'), 3, 'two updates and the header');
await shot('updates-after');

step('Groups: create North');
await page.goto(`${BASE}/console/groups`);
await fill('#create input[name=name]', 'North');
await click('#create button', /groups\/North/);

step('Groups: add two members through the members dialog');
await page.locator('#members-dialog summary').click();
await fill('#members-dialog input[name=name_contains]', 'ws000000');
await fill('#members-dialog input[name=ip_contains]', '');
await click('#members-dialog form[method=get] button', /name_contains=/);
const boxes = await page.$$('#add input[name=id]');
assert.ok(boxes.length >= 2);
await boxes[0].click();
await boxes[1].click();
await click('#add button[type=submit]', /msg=Added/);
assert.equal(await count('#members td.member'), 2);
await shot('group');

step('Groups: remove a member');
const kept = await page.$$eval('#members td.member', (es) => es[1].textContent);
await (await page.$$('#members input[name=id]'))[0].click();
await click('#members button[type=submit]', /msg=Removed/);
assert.equal(await count('#members td.member'), 1);

step('Groups: delete North; its member is in the default group');
await click('#delete button', /msg=Deleted/);
assert.equal(await count('#groups td.name'), 1);
await page.goto(`${BASE}/console/machines?search=${encodeURIComponent(kept)}`);
assert.equal(await text('#machines td.group'), 'Default');

step('Report: filter, and find the filter remembered');
await page.goto(`${BASE}/console/report`);
await page.select('#filter select[name=since]', '2w');
await click('#filter button', /since=2w/);
await page.goto(`${BASE}/console/about`);
await page.goto(`${BASE}/console/report`);
assert.equal(await page.$eval('#filter select[name=since]', (s) => s.value), '2w');
await click('#NeedsAttention', /status=NeedsAttention/);

step('Activity: export as CSV (a download)');
await page.goto(`${BASE}/console/activity`);
await page.locator('#export').click();
const file = path.join(DOWNLOADS, 'activity.csv');
// Puppeteer has no download event over BiDi: wait for the finished file
// (Firefox writes a .part file and renames it when done).
const deadline = Date.now() + 15000;
while (!fs.existsSync(file) || fs.readdirSync(DOWNLOADS).some((f) => f.endsWith('.part'))) {
  assert.ok(Date.now() < deadline, `no ${file} after 15 s: ${fs.readdirSync(DOWNLOADS)}`);
  await new Promise((r) => setTimeout(r, 100));
}
const csv = fs.readFileSync(file, 'utf8');
assert.match(csv, /^time,machine,application,release,patch,status,description/);
assert.ok(csv.trim().split('\n').length > 1, 'entries exported');

step('Activity: clear');
await click('#clear button', /msg=Cleared/);
assert.equal(await count('#activity tr'), 1, 'only the header row');

step('Configuration: Manage Database refuses what is not PostgreSQL');
await page.goto(`${BASE}/console/config`);
await page.locator('#manage-database summary').click();
assert.match(await text('#switchover-b'), /none chosen/);
await fill('#manage-database input[name=location]', 'mysql://db.example.com/iupdate');
const refused = await click('#manage-database button[value=copy]', /config\/database/);
assert.equal(refused.status(), 422);
assert.match(await text('p.err'), /PostgreSQL/);

if (process.env.SHARED_DB) {
  step('Configuration: Manage Database copies into the shared database and uses it');
  await page.goto(`${BASE}/console/config`);
  await page.locator('#manage-database summary').click();
  await fill('#manage-database input[name=location]', process.env.SHARED_DB);
  await click('#manage-database button[value=copy]', /msg=Copy/);
  assert.match(await text('#database'), /^postgres:\/\//);
  await page.locator('#manage-database summary').click();
  assert.match(await text('#switchover-b'), /Copy/);
  await shot('configuration-database');
} else {
  console.log('skipped: Manage Database Copy (no SHARED_DB: set TRANSIT_TEST_PG)');
}

step('Configuration: add a peer (+), Apply, remove it (−), Apply');
await page.goto(`${BASE}/console/config`);
await fill('#add-peer input[name=host_0]', 'peer1.example.com');
await click('#add-peer button[type=submit]', /msg=/);
assert.equal(await mark('#peers', 'peer1.example.com'), '+');
await shot('configuration-pending');
await click('#apply button[value=apply]', /msg=Applied/);
assert.equal(await mark('#peers', 'peer1.example.com'), '');
await navigate(async () => (await (await row('#peers', 'peer1.example.com')).$('button')).click(), /msg=/);
assert.equal(await mark('#peers', 'peer1.example.com'), '−');
await click('#apply button[value=apply]', /msg=Applied/);
assert.equal(await mark('#peers', 'peer1.example.com'), null);

step('Configuration: add a user (+), Apply, remove the user (−), Apply');
await fill('#add-user input[name=name]', 'bob');
await fill('#add-user input[name=password]', 'bobs password');
await click('#add-user button[type=submit]', /msg=/);
assert.equal(await mark('#users', 'bob'), '+');
await click('#apply button[value=apply]', /msg=Applied/);
assert.equal(await mark('#users', 'bob'), '');
await navigate(async () => (await (await row('#users', 'bob')).$('button')).click(), /msg=/);
assert.equal(await mark('#users', 'bob'), '−');
await click('#apply button[value=apply]', /msg=Applied/);
assert.equal(await mark('#users', 'bob'), null);

step('log off');
await click('nav form button', /\/console\/login/);
await page.goto(`${BASE}/console/about`);
assert.match(page.url(), /\/console\/login/);

await browser.close();
fs.rmSync(DOWNLOADS, { recursive: true, force: true });
console.log('firefox test passed');
