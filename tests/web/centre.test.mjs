// The privacy centre in a real browser: Debian's chromium driven by playwright-core against a
// real `custos serve` started here, on a fresh SQLite data directory with WIG's policy.
//
//   node centre.test.mjs BUILD_DIR JOURNEY [SCREENSHOT_DIR]
//
// JOURNEY is one of: notice, access, hostile, preferences, banner. Each clicks through its pages, runs axe-core
// (WCAG 2.0/2.1/2.2 A and AA rules) on every page it shows, and saves screenshots of every page
// at 1280 and 320 px wide into SCREENSHOT_DIR (default BUILD_DIR/web-screenshots).
// Exit 0 when every check held; otherwise the first failure and exit 1.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { check, chromiumPath as findChromium, paths, repo } from './browser.mjs';

const [buildDir, journey, shotsArg] = process.argv.slice(2);
if (!buildDir || !journey) {
  console.error('usage: node centre.test.mjs BUILD_DIR notice|access|hostile|preferences|banner [SCREENSHOT_DIR]');
  process.exit(2);
}
const { bin, shots } = paths(buildDir, shotsArg);
const chromiumPath = findChromium('centre test');

async function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A data directory with WIG's policy, one member with data, and an admin token. The banner's
// journey uses ProgressTeaching's policy instead: four cookie categories, one of them targeting.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-centre-'));
const data = path.join(dir, 'data');
const cli = (...args) => execFileSync(bin, ['--data', data, ...args], { encoding: 'utf8' });
const policy = path.join(repo, journey === 'banner' ? 'policies/progressteaching.yaml' : 'policies/wig.yaml');
const START = '2026-03-02T09:00:00Z';
cli('init', '--policy', policy);
if (journey !== 'banner') {
  cli('subject', 'add', 'm1', '--type', 'member', '--email', 'ada@example.test', '--at', START);
  cli('record', 'put', 'm1', 'user.name', 'Ada Member', '--source', 'direct', '--purpose',
    'membership_records', '--at', START);
}
const token = cli('token', 'create', '--role', 'admin').trim().split(/\s+/).find((w) => w.startsWith('cst_'));
check(token, 'an admin token was made');

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--test-clock',
  '--now', START, '--sweep-every', '0', '--deliver-every', '0', '--address-rate-limit', '0',
  '--demo-site'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (chunk) => { serverLog += chunk; });

async function api(method, route, body) {
  const response = await fetch(base + route, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

async function waitForServer() {
  for (let i = 0; i < 100; ++i) {
    try {
      const r = await fetch(base + '/healthz');
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('custos serve did not start:\n' + serverLog);
}

// The code the centre sent, as an operator or a mailer would take it from the outbox.
function codeFor(requestId) {
  const code = cli('outbox', 'read', '--request', requestId, '--last', '--field', 'code').trim();
  check(/^\d{8}$/.test(code), 'the outbox holds an 8-digit code');
  return code;
}

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
const failures = [];
let page;

// axe-core on the page as it is now: no WCAG 2.2 A or AA violation.
async function accessible(name) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'])
    .analyze();
  const found = result.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`);
  check(found.length === 0, `axe on ${name}: ${found.join('; ')}`);
}

// Screenshots at 1280 and 320 px; at 320 nothing may need sideways scrolling.
async function screenshots(name) {
  for (const width of [1280, 320]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
    // The first screen too, as a person sees it on opening the page.
    await page.screenshot({ path: path.join(shots, `${name}-${width}-first-screen.png`) });
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    check(scroll <= width, `${name} fits ${width} px (scrollWidth ${scroll})`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function shown(name) {
  await accessible(name);
  await screenshots(name);
}

// Headers every centre page carries: a strict CSP without inline script.
function strictHeaders(response, what) {
  const csp = response.headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline') &&
    csp.includes("default-src 'none'"), `${what} has a strict CSP (${csp})`);
}

async function openRequest(right, email) {
  await page.goto(`${base}/rights/${right}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.waitForURL(/\/requests\/[^/]+\/verify$/);
  return page.url().split('/').slice(-2)[0];
}

async function verify(requestId) {
  await page.getByLabel('One-time code').fill(codeFor(requestId));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForURL(new RegExp(`/requests/${requestId}$`));
}

const journeys = {
  // Read the notice: generated, with a table of contents whose links lead to its sections,
  // in the organisation's name; works without JavaScript.
  async notice() {
    const home = await page.goto(base + '/');
    check(home.status() === 200, 'the home page answers 200');
    strictHeaders(home, 'the home page');
    check((await page.locator('header .org').innerText()).includes('The Whitehall & Industry Group'),
      'the header names the organisation');
    const offered = await page.locator('main .cards a').allInnerTexts();
    check(offered.includes('Get a copy of your data') && offered.includes('Delete your data'),
      'the rights the policy offers are listed');
    check(!offered.includes('Ask a person to review an automated decision'),
      'a right the policy does not offer is not listed');
    await shown('home');
    const r404 = await page.goto(base + '/rights/automated_decision_review');
    check(r404.status() === 404, 'a right the policy does not offer has no page');
    await page.getByRole('link', { name: 'Privacy centre' }).first().click().catch(() => {});
    const notice = await page.goto(base + '/notice');
    check(notice.status() === 200, 'the notice answers 200');
    strictHeaders(notice, 'the notice');
    check(/max-age=\d+/.test(notice.headers()['cache-control']), 'the notice may be cached');
    const toc = page.locator('nav.toc a');
    check(await toc.count() >= 5, 'the notice has a table of contents');
    const first = await toc.nth(1).getAttribute('href');
    check(await page.locator(first).count() === 1, `the contents link ${first} names a section`);
    check((await page.locator('article.notice').innerText()).includes('Whitehall'),
      'the notice is the organisation\'s');
    await shown('notice');
    await page.goto(base + '/rights');
    await shown('rights');
    // The stylesheet and script: cached for a year under a name with their hash.
    const css = await page.locator('link[rel=stylesheet]').first().getAttribute('href');
    const asset = await fetch(base + css);
    check(asset.headers.get('cache-control').includes('immutable'), 'assets are cached immutably');
    // Every script and stylesheet a page loads, gzipped: at most 100 kB together.
    let gzipped = 0;
    const assets = await page.locator('link[rel=stylesheet], script[src]').evaluateAll(
      (els) => els.map((e) => e.getAttribute('href') || e.getAttribute('src')));
    for (const href of assets) {
      const body = Buffer.from(await (await fetch(base + href)).arrayBuffer());
      gzipped += zlib.gzipSync(body, { level: 9 }).length;
    }
    console.log(`centre assets: ${assets.length} files, ${gzipped} bytes gzipped`);
    check(assets.length === 3 && gzipped <= 100 * 1024, `JS and CSS at most 100 kB gzipped (${gzipped})`);
    // Without JavaScript the notice and the request form still work.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const nojs = await plain.newPage();
    await nojs.goto(base + '/notice');
    check(await nojs.locator('nav.toc a').count() >= 5, 'the notice reads without JavaScript');
    await nojs.goto(base + '/rights/access');
    await nojs.getByLabel('Email address').fill('nojs@example.test');
    await nojs.getByRole('button', { name: 'Send me a code' }).click();
    await nojs.waitForURL(/\/verify$/);
    check((await nojs.locator('h1').innerText()) === 'Enter your code',
      'the request form works without JavaScript');
    await plain.close();
  },

  // Open an access request, take the code from the outbox, verify, follow it, and download
  // the HTML package once the DPO fulfilled it.
  async access() {
    await page.goto(base + '/rights/access');
    await shown('right-access');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    check((await page.locator('#problem').innerText()).includes('Give an email address'),
      'an empty form names what is missing');
    await shown('right-access-problem');
    const id = await openRequest('access', 'ada@example.test');
    await shown('verify');
    await verify(id);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'custos_session');
    check(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly, SameSite=Strict');
    check((await page.locator('.state').innerText()) === 'We are working on it', 'the status shows');
    const due = await page.locator('.facts div').nth(3).innerText();
    check(due.includes('2026-04-02'), `the due date is a month from verification (${due})`);
    await shown('request-in-progress');
    const fulfilled = await api('POST', `/v1/requests/${id}/fulfilment`, {});
    check(fulfilled.status === 200, `the DPO fulfils the request (${fulfilled.status} ${fulfilled.body})`);
    await page.reload();
    check((await page.locator('.state').innerText()) === 'Completed', 'the request shows completed');
    await shown('request-completed');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download as a web page (HTML)' }).click(),
    ]);
    const file = await download.path();
    const html = fs.readFileSync(file, 'utf8');
    check(html.includes('Ada Member'), 'the HTML package holds the person\'s data');
    const json = await page.context().request.get(`${base}/requests/${id}/copy.json`);
    check(json.status() === 200 && (await json.text()).includes('Ada Member'), 'the JSON package downloads');
    // Signing out ends the session.
    await page.getByRole('button', { name: 'Sign out' }).click();
    const after = await page.goto(`${base}/requests/${id}`);
    check(after.status() === 403, 'after signing out the request is closed');
  },

  // Hostile input: typed scripts stay text, sessions open only their own request and expire,
  // forms without their CSRF token are refused.
  async hostile() {
    let alerted = false;
    page.on('dialog', async (dialog) => { alerted = true; await dialog.dismiss(); });
    const attack = '"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">';
    for (const right of ['access', 'rectification', 'objection']) {
      await page.goto(`${base}/rights/${right}`);
      await page.getByLabel('Email address').fill(attack);
      await page.getByLabel('Or a mobile phone number').fill(attack);
      await page.getByLabel(/Anything else/).fill(attack);
      if (right === 'rectification') await page.getByLabel('What it should say').fill(attack);
      await page.getByRole('button', { name: 'Send me a code' }).click();
      await page.waitForLoadState('load');
      check(await page.evaluate(() => window.__pwned === undefined), `no script ran on ${right}`);
      check(await page.locator('main script, main img').count() === 0, `no element was injected on ${right}`);
      check((await page.getByLabel(/Anything else/).inputValue()) === attack,
        `the typed text comes back as text on ${right}`);
    }
    await shown('right-hostile');
    // The code field.
    const id = await openRequest('access', 'ada@example.test');
    await page.getByLabel('One-time code').fill(attack);
    await page.getByRole('button', { name: 'Confirm' }).click();
    check(await page.evaluate(() => window.__pwned === undefined), 'no script ran on the code page');
    check((await page.locator('#problem').innerText()).includes('not right'), 'a wrong code is refused');
    check(!alerted, 'no dialog opened');
    // Without a session, with a forged one, with another request's: nothing.
    const stranger = await browser.newContext();
    const other = await stranger.newPage();
    let r = await other.goto(`${base}/requests/${id}`);
    check(r.status() === 403, 'no session: 403');
    await stranger.addCookies([{ name: 'custos_session', value: 'a'.repeat(64), url: base }]);
    r = await other.goto(`${base}/requests/${id}`);
    check(r.status() === 403, 'a forged session: 403');
    r = await other.goto(`${base}/requests/${id}/copy.json`);
    check(r.status() === 403, 'a forged session downloads nothing');
    await verify(id);
    const mine = (await page.context().cookies()).find((c) => c.name === 'custos_session');
    const second = await openRequest('access', 'bob@example.test');
    await stranger.clearCookies();
    await stranger.addCookies([{ name: 'custos_session', value: mine.value, url: base }]);
    r = await other.goto(`${base}/requests/${second}`);
    check(r.status() === 403, 'another request\'s session opens nothing here');
    r = await other.goto(`${base}/requests/${id}`);
    check(r.status() === 200, 'the session opens its own request');
    await stranger.close();
    // A missing or wrong CSRF token: refused, and nothing happens.
    const form = await page.context().request.post(`${base}/rights/access`, {
      form: { email: 'csrf@example.test' }, maxRedirects: 0,
    });
    check(form.status() === 403, `a form without its CSRF token is refused (${form.status()})`);
    const forged = await page.context().request.post(`${base}/requests/${id}/withdraw`, {
      form: { csrf: 'f'.repeat(64) }, maxRedirects: 0,
    });
    check(forged.status() === 403, 'a withdrawal with a forged token is refused');
    await page.goto(`${base}/requests/${id}`);
    check((await page.locator('.state').innerText()) === 'We are working on it', 'the request was not withdrawn');
    // The real form withdraws it (after the confirmation the script asks for).
    page.removeAllListeners('dialog');
    page.on('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Withdraw this request' }).click();
    await page.waitForLoadState('load');
    check((await page.locator('.state').innerText()) === 'Withdrawn', 'the person withdraws the request');
    await shown('request-withdrawn');
    // 31 minutes idle: the session has ended.
    const later = await api('POST', '/v1/test/clock', { now: '2026-03-02T09:32:00Z' });
    check(later.status === 200, 'the test clock moves');
    r = await page.goto(`${base}/requests/${id}`);
    check(r.status() === 403, 'a session idle for more than 30 minutes is over');
    await shown('session-ended');
  },
};

// "My preferences": sign in with a code, change a consent, a channel and an objection and see
// each decision change; then the one-click unsubscribe from the link an email carries.
// Seeds: wig.txt "You have the right to withdraw your consent at any time"; 001_22b79a674f37bc10.txt
// "You may opt out of receiving marketing by amending your preferences"; 004_f81c814f3e677000.txt
// "fulfil your request to "unsubscribe" from further messages from us".
journeys.preferences = async function preferences() {
  const decide = async (purpose) => {
    const r = await api('POST', '/v1/decisions',
      { subject_id: 'm1', purpose, categories: ['user.contact.email'], channel: 'email' });
    check(r.status === 200, `a decision for ${purpose} (${r.status} ${r.body})`);
    if (process.env.DEBUG_DECISIONS) console.log(purpose, r.body);
    return JSON.parse(r.body).allow;
  };
  let r = await api('POST', '/v1/subjects/m1/consents', { target: 'newsletter', given: true });
  check(r.status === 201 || r.status === 200, `Ada signs up to the eNewsletter (${r.status} ${r.body})`);
  check(await decide('newsletter') === true, 'the eNewsletter may use her email before');

  // Nothing opens without the code.
  const before = await page.goto(`${base}/preferences/me`);
  check(before.status() === 403, 'no preferences without signing in');
  await page.goto(`${base}/preferences`);
  await shown('preferences-sign-in');
  await page.getByLabel('Email address').fill('ada@example.test');
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.waitForURL(/\/preferences\/[^/]+\/verify$/);
  const signIn = page.url().split('/').slice(-2)[0];
  // A sign-in is no rights request: the DPO's list of open work does not show it.
  const open = await api('GET', '/v1/requests?filter=open');
  check(open.status === 200 && !open.body.includes(signIn), 'a sign-in is not open work');
  await page.getByLabel('One-time code').fill(codeFor(signIn));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForURL(/\/preferences\/me$/);
  const newsletter = page.locator('li.setting', { has: page.locator('h3', { hasText: 'eNewsletter' }) });
  check((await newsletter.locator('.now').innerText()).includes('You have agreed'), 'the consent shows as given');
  check((await newsletter.innerText()).includes('regular eNewsletter'), 'the purpose comes with its notice text');
  await shown('preferences');

  // Withdraw the consent: the decision changes at once.
  await newsletter.getByRole('button', { name: 'Withdraw your agreement' }).click();
  await page.waitForURL(/saved=1$/);
  check((await page.locator('[role=status]').innerText()).includes('Saved'), 'the change is confirmed');
  check((await newsletter.locator('.now').innerText()).includes('You have not agreed'), 'the consent shows withdrawn');
  check(await decide('newsletter') === false, 'the eNewsletter may no longer use her email');
  await shown('preferences-saved');
  await newsletter.getByRole('button', { name: 'Agree' }).click();
  await page.waitForURL(/saved=1$/);
  check(await decide('newsletter') === true, 'consent given again is honoured');

  // Stop email as a channel: an email purpose is refused.
  const email = page.locator('li.setting', { has: page.locator('h3', { hasText: /^Email$/ }) });
  await email.getByRole('button', { name: 'Stop' }).click();
  await page.waitForURL(/saved=1$/);
  check((await email.locator('.now').innerText()).includes('Not allowed'), 'the channel shows stopped');
  check(await decide('newsletter') === false, 'no email once the channel is stopped');
  await email.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/saved=1$/);

  // Object to relevant opportunities (legitimate interests), then withdraw the objection.
  check(await decide('opportunities') === true, 'opportunities may use her email before');
  const opportunities = page.locator('li.setting', { has: page.locator('h3', { hasText: 'Relevant opportunities' }) });
  await opportunities.getByRole('button', { name: 'Object' }).click();
  await page.waitForURL(/saved=1$/);
  check(await decide('opportunities') === false, 'an objection stops it');
  await opportunities.getByRole('button', { name: 'Withdraw your objection' }).click();
  await page.waitForURL(/saved=1$/);
  check(await decide('opportunities') === true, 'a lifted objection lets it run again');

  // A forged change (no CSRF token) changes nothing.
  const forged = await page.context().request.post(`${base}/preferences/me`, {
    form: { kind: 'consent', key: 'newsletter', on: '0' }, maxRedirects: 0,
  });
  check(forged.status() === 403 && await decide('newsletter') === true, 'a change without its token is refused');
  // Typed script in the sign-in form stays text.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto(`${base}/preferences`);
  const attack = '"><script>window.__pwned=1</script>';
  await page.getByLabel('Email address').fill(attack);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.waitForLoadState('load');
  check(await page.evaluate(() => window.__pwned === undefined), 'no script ran on the sign-in form');
  check((await page.getByLabel('Email address').inputValue()) === attack, 'the typed text comes back as text');

  // The one-click unsubscribe from an emailed link: a message about stopping direct marketing
  // carries it (RFC 8058).
  const objection = await openRequest('objection', 'ada@example.test').catch(async () => {
    await page.getByLabel('Which use of your data?').selectOption('direct_marketing');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.waitForURL(/\/requests\/[^/]+\/verify$/);
    return page.url().split('/').slice(-2)[0];
  });
  const unsubscribe = cli('outbox', 'read', '--request', objection, '--last', '--field',
    'unsubscribe_token').trim();
  check(/^m\.[^.]+\.[0-9a-f]{32}$/.test(unsubscribe), `the message carries a signed token (${unsubscribe})`);
  const bad = await page.goto(`${base}/unsubscribe?token=${unsubscribe.slice(0, -1)}0`);
  check(bad.status() === 200, 'the confirmation page opens for any link');
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await page.waitForLoadState('load');
  check((await page.locator('main').innerText()).includes('not valid'), 'a forged link does nothing');
  check(await decide('opportunities') === true, 'still subscribed after a forged link');
  await page.goto(`${base}/unsubscribe?token=${unsubscribe}`);
  await shown('unsubscribe');
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await page.waitForLoadState('load');
  check((await page.locator('main').innerText()).includes('You are unsubscribed'), 'the person is told');
  await shown('unsubscribed');
  check(await decide('opportunities') === false, 'no direct marketing after unsubscribing');
  check(await decide('newsletter') === false, 'the eNewsletter (direct marketing) stops too');
  // A mail client's own one-click POST (no cookie, no form token) works and is idempotent.
  const oneClick = await fetch(`${base}/unsubscribe?token=${unsubscribe}`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  check(oneClick.status === 200, `the RFC 8058 POST answers 200 (${oneClick.status})`);
  // Suppression is honoured: with the objection lifted, the address is still on the list and
  // direct marketing stays refused.
  const lifted = await api('DELETE', '/v1/subjects/m1/objections/direct_marketing');
  check(lifted.status < 300, `the objection is lifted by staff (${lifted.status} ${lifted.body})`);
  check(await decide('opportunities') === false, 'the suppressed address gets no direct marketing');
};

// The cookie banner on an example page of the organisation's site: decline, then accept from
// the preferences, then a browser with Global Privacy Control. Each choice reaches the consent
// ledger, and the decision API answers from it. Seeds: progressteaching.txt "You can refuse or
// withdraw consent to cookies"; "to target and personalise our advertising" (targeting).
journeys.banner = async function banner() {
  const violations = [];
  const watch = (p) => p.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  watch(page);
  const verdicts = async (p) => {
    const r = await p.context().request.get(`${base}/cookies/decision`);
    check(r.status() === 200, `the decision answers (${r.status()})`);
    const body = await r.json();
    return Object.fromEntries(body.categories.map((c) => [c.category, c]));
  };
  // Polled from here: waitForFunction's polling evaluates strings, which the page's CSP forbids.
  const recorded = async (p) => {
    for (let i = 0; i < 100; ++i) {
      const state = await p.evaluate(() => document.documentElement.dataset.custosConsent);
      if (state === 'recorded') {
        await p.evaluate(() => { delete document.documentElement.dataset.custosConsent; });
        return;
      }
      check(state !== 'failed', 'the choice was recorded');
      await new Promise((r) => setTimeout(r, 100));
    }
    check(false, 'the choice was recorded within 10 s');
  };

  await page.goto(`${base}/demo-site`);
  const dialog = page.getByRole('dialog', { name: /Cookies on this website/ });
  await dialog.waitFor();
  await shown('banner');
  let v = await verdicts(page);
  check(v.performance.allow === false && v.performance.reasons[0].code === 'CONSENT_MISSING',
    'before a choice nothing optional may be set');
  check(v.strictly_necessary.allow === true, 'strictly necessary cookies need no consent');
  await dialog.getByRole('button', { name: 'Reject all' }).click();
  await recorded(page);
  v = await verdicts(page);
  check(!v.performance.allow && !v.functionality.allow && !v.targeting.allow, 'reject all refuses every optional category');
  check(v.targeting.reasons[0].code === 'CONSENT_WITHDRAWN', 'the refusal is in the ledger');

  // Change of mind from the page's own link: the preferences, then accept all.
  await page.getByRole('button', { name: 'Change your cookie choices' }).click();
  const preferences = page.getByRole('dialog', { name: /Your cookie choices/ });
  await preferences.waitFor();
  check((await preferences.innerText()).includes('Targeting and/or advertising cookies'),
    'the categories come from the policy');
  await shown('banner-preferences');
  await preferences.getByRole('button', { name: 'Accept all' }).click();
  await recorded(page);
  v = await verdicts(page);
  check(v.performance.allow && v.functionality.allow && v.targeting.allow, 'accept all allows every category');

  // The visitor's choices are cookie-category consents with the notice's version.
  const visitor = (await page.context().cookies()).find((c) => c.name === 'custos_visitor');
  check(visitor && visitor.httpOnly && /^v_[0-9a-f]{24}$/.test(visitor.value), 'a pseudonymous visitor id in an HttpOnly cookie');
  const ledger = await api('GET', `/v1/subjects/${visitor.value}/consents`);
  check(ledger.status === 200 && ledger.body.includes('website-2019-11-07') &&
    ledger.body.includes('targeting'), `the ledger holds the choices with the notice version (${ledger.status})`);

  // Global Privacy Control: the header and the script property, a fresh visitor.
  const gpcContext = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
  await gpcContext.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });
  });
  const gpcPage = await gpcContext.newPage();
  watch(gpcPage);
  const previous = page;
  page = gpcPage;
  await gpcPage.goto(`${base}/demo-site`);
  const gpcDialog = gpcPage.getByRole('dialog', { name: /Cookies on this website/ });
  await gpcDialog.waitFor();
  check((await gpcDialog.locator('.custos-gpc').innerText()).includes('Targeting and/or advertising cookies'),
    'the visitor is told GPC refuses the targeting cookies');
  await shown('banner-gpc');
  await gpcDialog.getByRole('button', { name: 'Accept all' }).click();
  await recorded(gpcPage);
  v = await verdicts(gpcPage);
  check(v.performance.allow, 'GPC leaves the other categories to the visitor');
  check(!v.targeting.allow && v.targeting.reasons[0].code === 'GPC_REFUSED', 'GPC refuses targeting even after accept all');
  // The engine applies GPC itself: a forged "accepted" for targeting with the header is refused.
  const forged = await gpcContext.request.post(`${base}/cookies/choices`, {
    headers: { 'Content-Type': 'application/json' }, data: { accepted: ['targeting'] },
  });
  check(forged.status() === 201, `choices post (${forged.status()})`);
  const gpcVisitor = (await gpcContext.cookies()).find((c) => c.name === 'custos_visitor');
  const gpcLedger = await api('GET', `/v1/subjects/${gpcVisitor.value}/consents`);
  check(gpcLedger.status === 200 && !/"targeting"[^}]*"given"/.test(gpcLedger.body),
    'no targeting consent is ever recorded as given under GPC');
  page = previous;
  await gpcContext.close();

  // A form from another site cannot record a choice (not JSON), nor can a bad body.
  const plainForm = await page.context().request.post(`${base}/cookies/choices`, { form: { accepted: 'targeting' } });
  check(plainForm.status() === 415, `a form post is refused (${plainForm.status()})`);
  const unknown = await page.context().request.post(`${base}/cookies/choices`, {
    headers: { 'Content-Type': 'application/json' }, data: { accepted: ['<script>'] },
  });
  check(unknown.status() === 422 && unknown.headers()['content-type'].startsWith('application/problem+json'),
    `an unknown category is a 422 problem (${unknown.status()})`);
  const gpcJson = await (await fetch(`${base}/.well-known/gpc.json`)).json();
  check(gpcJson.gpc === true, '/.well-known/gpc.json says the site honours GPC');
  check(violations.length === 0, `no Content-Security-Policy violation (${violations.join('; ')})`);
};

let code = 0;
try {
  await waitForServer();
  check(journeys[journey], `a journey named ${journey}`);
  const context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await journeys[journey]();
  console.log(`centre ${journey}: every check held; screenshots in ${shots}`);
} catch (error) {
  console.error(`centre ${journey}: ${error.message}`);
  failures.push(error);
  code = 1;
} finally {
  await browser.close();
  // The server drains and writes its last files on SIGTERM: remove its directory after it exits.
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10000))]);
  }
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
process.exit(code);
