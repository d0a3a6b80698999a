// Shared helpers of the browser tests: launch Debian's Chromium headless, log in,
// make valid resident ID numbers, and save a screenshot of every page visited.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import path from 'node:path';

export const BASE = process.env.SSCARD_BASE_URL ?? 'http://127.0.0.1:8080';
export const PASSWORD = 'sscard-demo';
const SHOTS = process.env.SSCARD_SHOTS ?? path.resolve('..', 'target', 'web-screenshots');
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser context (its own cookies) with a phone or desktop viewport. axe-core is
 * injected as a script, which the pages' CSP (rightly) forbids: bypassed in the tests only. */
export async function newPage(browser, { phone = false, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    locale: locale === 'en' ? 'en-US' : locale,
    bypassCSP: true,
    viewport: phone ? PHONE : DESKTOP,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

export async function shot(page, name) {
  await timed('screenshots', () => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true }));
}

/** Logs `username` in at the server `base` (default: the demo server). */
export async function login(page, username, base = BASE) {
  await page.goto(`${base}/login`);
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/密码|Password/).fill(PASSWORD);
  await page.locator('form[action="/login"] button[type=submit]').click();
  await page.waitForLoadState('networkidle');
  // Whose eyes the pages of this browser context are for, to judge the numbers they show.
  viewers.set(page.context(), await viewer(username, base));
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** A valid 18-character resident ID number (GB 11643) for a generated person. */
export function residentId(region, yyyymmdd, seq) {
  const body = `${region}${yyyymmdd}${String(seq % 1000).padStart(3, '0')}`;
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * WEIGHTS[i], 0);
  return body + CHECK[sum % 11];
}

/** A sequence number unlikely to repeat between runs on the same database. */
export function uniqueSeq() {
  return Math.floor(Math.random() * 900) + 100;
}

/** A random birth date between 1960 and 1999 as YYYYMMDD. */
export function randomBirth() {
  const y = 1960 + Math.floor(Math.random() * 40);
  const m = 1 + Math.floor(Math.random() * 12);
  const d = 1 + Math.floor(Math.random() * 28);
  return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}

// ---- Every flow in both languages at both sizes -------------------------------------------

/** The four ways every flow is walked: Chinese and English, at desktop and phone sizes. */
export const VARIANTS = [
  { lang: 'zh-CN', phone: false }, { lang: 'zh-CN', phone: true },
  { lang: 'en', phone: false }, { lang: 'en', phone: true },
].map((v) => ({ ...v, name: `${v.lang} ${v.phone ? 'phone' : 'desktop'}`, tag: `${v.lang}-${v.phone ? 'phone' : 'desktop'}` }));

/**
 * Puts a logged-in page into a variant: its language (the same cookie the page's switch sets)
 * and its viewport, so one login serves all four variants.
 */
export async function useVariant(page, v, { elder = false } = {}) {
  await page.context().addCookies([
    { name: 'sscard_lang', value: v.lang === 'en' ? 'en' : 'zh', url: BASE },
    { name: 'sscard_elder', value: elder ? '1' : '0', url: BASE },
  ]);
  await page.setViewportSize(v.phone ? PHONE : DESKTOP);
}

const I18N = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'crates', 'sscard-server', 'i18n');
const catalogs = new Map();

/** The server's own message catalog of a language (key = value lines of its .ftl files). */
function catalog(lang) {
  if (!catalogs.has(lang)) {
    const map = new Map();
    for (const f of readdirSync(path.join(I18N, lang)).filter((n) => n.endsWith('.ftl'))) {
      for (const line of readFileSync(path.join(I18N, lang, f), 'utf8').split('\n')) {
        const m = line.match(/^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*)$/);
        if (m) map.set(m[1], m[2].trim());
      }
    }
    catalogs.set(lang, map);
  }
  return catalogs.get(lang);
}

/** A message of the catalog with its arguments filled in; a missing key fails the test. */
export function t(lang, key, args = {}) {
  const msg = catalog(lang).get(key);
  assert.ok(msg !== undefined, `no message ${key} in the ${lang} catalog`);
  return msg.replace(/\{\s*\$([a-z_]+)\s*\}/g, (_, a) => (a in args ? String(args[a]) : `{$${a}}`));
}

/** A message as a pattern: the given arguments literally, the others as any text. */
export function tRe(lang, key, args = {}) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const msg = catalog(lang).get(key);
  assert.ok(msg !== undefined, `no message ${key} in the ${lang} catalog`);
  const parts = msg.split(/(\{\s*\$[a-z_]+\s*\})/);
  return new RegExp(parts.map((p) => {
    const m = p.match(/^\{\s*\$([a-z_]+)\s*\}$/);
    if (!m) return esc(p);
    return m[1] in args ? esc(String(args[m[1]])) : '.+?';
  }).join(''));
}

/** The text a person reads on the page (and the labels a screen reader reads), outside data.
 * Text inside translate="no" (names, places, logins), <code> and other-language elements is
 * not judged. Runs in the page. */
export function readText() {
  const skip = (el) => el.closest('[translate="no"], code, script, style, noscript')
    || (el.closest('[lang]') && el.closest('[lang]').getAttribute('lang') !== document.documentElement.lang);
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el) || !n.textContent.trim()) continue;
    if (el.tagName !== 'OPTION' && el.closest('svg') === null && !el.checkVisibility()) continue;
    parts.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (skip(el)) continue;
    for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) parts.push(el.getAttribute(a));
  }
  return parts.join('\n');
}

/** The words on a page that should not be there, for its language. */
export function strayWords(text, lang) {
  const bad = [];
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)+/g)) bad.push(`code ${m[0]}`);
  if (lang === 'zh-CN') {
    // Latin only as codes and abbreviations: card numbers, bank codes, QR, ID, SM3, CSV, PIN.
    for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/g)) {
      if (!/^[A-Z0-9][A-Z0-9-]*$/.test(m[0])) bad.push(`latin ${m[0]}`);
    }
  } else {
    for (const m of text.matchAll(/[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+/g)) bad.push(`cjk ${m[0]}`);
  }
  return bad;
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// Where a test file's time goes (axe, screenshots, waiting for pages), printed at its end with
// SSCARD_WEB_TIMING=1: the browser step must stay cheap on a 2-core CI machine.
const spent = new Map();
async function timed(what, work) {
  const started = performance.now();
  try {
    return await work();
  } finally {
    const [ms, n] = spent.get(what) ?? [0, 0];
    spent.set(what, [ms + performance.now() - started, n + 1]);
  }
}
if (process.env.SSCARD_WEB_TIMING) {
  process.on('exit', () => {
    const line = [...spent].map(([w, [ms, n]]) => `${w} ${(ms / 1000).toFixed(1)}s/${n}`).join(', ');
    process.stderr.write(`time in ${path.basename(process.argv[1] ?? '')}: ${line}\n`);
  });
}

/**
 * What axe-core judges of a page state: its document with what differs between two visits of
 * the same state taken out (the CSRF token, QR codes and their tokens, one-time codes, digits:
 * times, amounts, numbers — a digit's glyph is as wide as any other), and the viewport. Two
 * states with the same signature are the same markup under the same style sheet at the same
 * size, so axe finds the same in both. Runs in the page.
 */
function axeSignature() {
  const doc = document.documentElement.cloneNode(true);
  for (const el of doc.querySelectorAll('figure.qr, [data-token]')) el.replaceChildren();
  for (const el of doc.querySelectorAll('[data-token], [data-expires]')) {
    el.removeAttribute('data-token');
    el.removeAttribute('data-expires');
  }
  const csrf = document.querySelector('input[name=csrf]')?.value;
  let html = doc.outerHTML;
  if (csrf) html = html.split(csrf).join('');
  html = html.replace(/\b[2-9A-HJKMNP-Z]{8}\b/g, 'CODE').replace(/[0-9]/g, '0');
  return `${window.innerWidth}x${window.innerHeight}\n${html}`;
}

let axeServed;
/** axe-core served by this test process over loopback, cacheable (the pages' CSP, which would
 * refuse it, is bypassed in the tests' browser contexts). */
function axeUrl() {
  axeServed ??= new Promise((resolve) => {
    const body = readFileSync(AXE);
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'public, max-age=86400', connection: 'close' });
      res.end(body);
    });
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}/axe.min.js`));
    server.unref();
  });
  return axeServed;
}

// The page states axe has judged in this run: signature digest -> violations. Shared between the
// test files through SSCARD_AXE_CACHE (a file of run.sh's temporary directory: one run, one
// server, one style sheet); SSCARD_AXE_CACHE=off judges every state again.
const AXE_CACHE = process.env.SSCARD_AXE_CACHE;
const judged = new Map();
if (AXE_CACHE && AXE_CACHE !== 'off' && existsSync(AXE_CACHE)) {
  for (const [k, v] of Object.entries(JSON.parse(readFileSync(AXE_CACHE, 'utf8')))) judged.set(k, v);
}
if (AXE_CACHE && AXE_CACHE !== 'off') {
  process.on('exit', () => writeFileSync(AXE_CACHE, JSON.stringify(Object.fromEntries(judged))));
}

/** axe-core's critical and serious violations on the page as it is now (once per page state). */
export async function axe(page) {
  const key = AXE_CACHE === 'off' ? null : createHash('sha256').update(await page.evaluate(axeSignature)).digest('hex');
  if (key && judged.has(key)) {
    await timed('axe (state judged before)', async () => {});
    return judged.get(key);
  }
  const found = await timed('axe', async () => {
    // Injected once per document (the crawl runs axe at two sizes of the same page), from a URL
    // the browser caches with its compiled code: parsing axe-core's 550 kB anew for every
    // document cost 0.2-0.8 s on a busy 2-core machine, a cached load 20-90 ms.
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ url: await axeUrl() });
    const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
    return result.violations
      .filter((v) => v.impact === 'critical' || v.impact === 'serious')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  if (key) judged.set(key, found);
  return found;
}

/** How far the page is wider than its viewport (0: no horizontal scrolling). */
export async function overflowX(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/**
 * A page reached by a flow, judged as every page is: in the variant's language (html lang and
 * no word of the other language or raw code), no horizontal overflow at phone size, no critical
 * or serious axe violation, no full document number or SSN its viewer may not see
 * (`MAY_SEE_FULL`); its screenshot is saved as `<name>-<variant>`.
 */
export async function check(page, v, name) {
  await timed('waiting for pages', () => settled(page));
  const problems = [...await fullNumberLeaks(page)];
  const lang = await page.locator('html').getAttribute('lang');
  if (lang !== v.lang) problems.push(`html lang ${lang}`);
  for (const w of strayWords(await page.evaluate(readText), v.lang)) problems.push(w);
  if (v.phone) {
    const over = await overflowX(page);
    if (over > 0) problems.push(`${over}px wider than the phone: ${await widest(page)}`);
  }
  for (const a of await axe(page)) problems.push(`axe ${a}`);
  await shot(page, `${name}-${v.tag}`);
  assert.deepEqual(problems, [], `${name} (${v.name}) ${new URL(page.url()).pathname}`);
}

/** The page loaded and nothing htmx asked for still on its way (htmx marks an element with
 * `htmx-request` while its request runs): what a person sees once it has settled, without
 * waiting for half a second of network silence as 'networkidle' does. */
async function settled(page) {
  await page.waitForLoadState('load');
  await page.waitForFunction(() => document.readyState === 'complete' && !document.querySelector('.htmx-request'));
}

/** The elements sticking out of the viewport on the right, to say what overflows. */
async function widest(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 0.5 && el.checkVisibility()) {
        let scrolled = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const o = getComputedStyle(p).overflowX;
          if (o === 'auto' || o === 'scroll' || o === 'hidden') { scrolled = true; break; }
        }
        if (!scrolled) out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''} (${Math.round(r.right)}px)`);
      }
    }
    return out.slice(0, 5).join(', ');
  });
}

/** Clicks a form's button (or a link) and waits for the page it leads to: the click waits for
 * the navigation to start, and the page is server-rendered, so its load is enough; what htmx
 * fetches afterwards is awaited where it is used, and by `check` (network idle) before judging. */
export async function submit(page, selector) {
  await page.locator(selector).click();
  await timed('waiting for pages', () => page.waitForLoadState('load'));
}

/**
 * The customer's PIN at the desk, the short way: the teller (`desk`, on the card's desk page)
 * makes a one-time code, a customer screen of its own (no login) opens it and the PIN is typed
 * twice there; waits until the teller's page says it is done.
 */
export async function customerSetsPin(browser, desk, cardNo, pin) {
  await submit(desk, `form[action="/desk/pin/${cardNo}"] button`);
  const code = await desk.getByTestId('pin-code').innerText();
  const screen = await newPage(browser);
  try {
    await screen.goto(`${BASE}/kiosk/pin?code=${code}`);
    await screen.fill('#pin', pin);
    await screen.fill('#pin_confirmation', pin);
    await submit(screen, 'form[action="/kiosk/pin"] button[type=submit]');
    await screen.getByTestId('kiosk-done').waitFor();
  } finally {
    await screen.context().close();
  }
  await desk.locator('[data-pin-state="done"]').waitFor();
}

/** The API, as the tests' own hands (making data a flow starts from). */
export async function api(urlPath, token, body) {
  return apiAt(BASE, urlPath, token, body);
}

/** The API of the server at `base` (a deployment of the nation). */
export async function apiAt(base, urlPath, token, body) {
  const res = await fetch(`${base}/api/v1${urlPath}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${urlPath}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

/** An API token of a demo login (of the server at `base`). */
export async function token(username, base = BASE) {
  return (await apiAt(base, '/auth/login', null, { username, password: PASSWORD })).token;
}

let holders = 0;
/**
 * A new holder login for a new registered person (no card yet): a flow that changes a holder's
 * cards gets its own holder per variant. `birth` (YYYYMMDD) makes an elderly one.
 */
export async function newHolder(name, { birth = randomBirth() } = {}) {
  const [teller, admin] = [await token('teller.icbc'), await token('admin')];
  const doc = residentId('350203', birth, uniqueSeq());
  const person = await api('/persons', teller, { doc_type: 'resident_id', doc_number: doc, name, region: '350203' });
  holders += 1;
  const username = `web.${process.pid}.${Date.now() % 100000}.${holders}`;
  await api('/users', admin, { username, password: PASSWORD, role: 'holder', person_id: person.id });
  return { username, person, doc };
}

// ---- Who may see a full document number or SSN ----------------------------------------------

/**
 * Whose full social security numbers and document numbers each role's pages may show.
 * DESIGN §8 "Who sees what": full SSNs and document numbers go only to the holder, their
 * guardian, clerks and admins, and a teller whose bank serves the person (a card or an
 * application with that bank: sscard_domain::disclosure); everyone else — a holder looking at
 * someone else, a teller of another bank, a terminal, a payer, a visitor not logged in — sees
 * the masked form 3501**********123X. DESIGN §6: masked in list views; issue 14 ("Done means":
 * no full document number to someone who may not see it).
 *   any   every person's number
 *   own   the viewer's own, and of the persons they are the guardian of
 *   bank  of the persons with a card or an application at the viewer's bank
 *   none  nobody's
 */
export const MAY_SEE_FULL = {
  admin: 'any', clerk: 'any', holder: 'own', teller: 'bank', payer: 'none', terminal: 'none', anonymous: 'none',
};

const viewers = new WeakMap();
const viewerOf = new Map();

/** A login's role, person (with their own full SSN, read with their own token: no staff look),
 * bank and server. */
async function viewer(username, base = BASE) {
  const key = `${base} ${username}`;
  if (!viewerOf.has(key)) {
    const me = await apiAt(base, '/auth/login', null, { username, password: PASSWORD });
    const own = me.person_id ? await apiAt(base, `/persons/${me.person_id}`, me.token) : null;
    viewerOf.set(key, { username, base, role: me.role, personId: me.person_id, ssn: own?.ssn, bank: me.bank_code });
  }
  return viewerOf.get(key);
}

const W18 = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const mod112 = (digits) => '10X98765432'[[...digits].reduce((a, d, i) => a + Number(d) * W18[i], 0) % 11];

/**
 * The full identity numbers in a text: 18-character ID-shaped numbers (resident ID, HK/Macau/
 * Taiwan residence permit, 2023 permanent residence ID: a valid MOD 11-2 check character and a
 * real birth date) and the SSNs the platform assigns (A + region + serial + check). Masked forms
 * (3501**********123X) and other long digit runs (times, tokens) are not numbers of anyone.
 */
export function fullNumbers(text) {
  const found = new Set();
  for (const [n] of text.matchAll(/(?<![0-9A-Za-z])(?:\d{17}[\dXx]|A\d{16}[\dX])(?![0-9A-Za-z])/g)) {
    const u = n.toUpperCase();
    if (u.startsWith('A')) {
      if (mod112(`0${u.slice(1, 17)}`) === u[17]) found.add(u);
      continue;
    }
    const [y, m, d] = [Number(u.slice(6, 10)), Number(u.slice(10, 12)), Number(u.slice(12, 14))];
    const date = new Date(Date.UTC(y, m - 1, d));
    const real = y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
    if (real && mod112(u.slice(0, 17)) === u[17]) found.add(u);
  }
  return [...found];
}

const adminTokens = new Map();
const serving = new Map();

/** The person holding a full number, as the card office of the server `base` sees them:
 * guardian and serving banks (null: not a person of that server). */
async function holderOf(number, base = BASE) {
  const key = `${base} ${number}`;
  if (!serving.has(key)) {
    if (!adminTokens.has(base)) adminTokens.set(base, await token('admin', base));
    const adminToken = adminTokens.get(base);
    const auth = { authorization: `Bearer ${adminToken}` };
    const res = await fetch(`${base}/api/v1/persons?ssn=${encodeURIComponent(number)}`, { headers: auth });
    let person = null;
    if (res.ok) {
      const p = await res.json();
      const cards = await apiAt(base, `/persons/${p.id}/cards`, adminToken);
      const apps = await apiAt(base, `/applications?person_id=${p.id}&limit=200`, adminToken);
      const banks = new Set([...(Array.isArray(cards) ? cards : cards.items ?? []), ...apps].map((x) => x.bank_code));
      person = { id: p.id, guardian: p.guardian_id, banks };
    }
    serving.set(key, person);
  }
  return serving.get(key);
}

/** Whether `who` may see `number` in full, by `MAY_SEE_FULL`. */
export async function maySee(who, number) {
  const rule = MAY_SEE_FULL[who?.role ?? 'anonymous'];
  assert.ok(rule, `no rule for the role ${who?.role}`);
  if (rule === 'any') return true;
  if (rule === 'none') return false;
  if (rule === 'own' && number === who.ssn) return true;
  const person = await holderOf(number, who.base);
  if (person === null) return false;
  if (rule === 'own') return person.guardian === who.personId;
  return who.bank !== undefined && who.bank !== null && person.banks.has(who.bank);
}

/** The full numbers on the page (its text and its HTML: attributes, hidden fields, links)
 * that its viewer may not see, each named with the page. */
export async function fullNumberLeaks(page) {
  const who = viewers.get(page.context()) ?? null;
  const text = `${await page.content()}\n${await page.evaluate(() => document.body?.innerText ?? '')}`;
  const leaks = [];
  for (const n of fullNumbers(text)) {
    if (!(await maySee(who, n))) {
      leaks.push(`full number ${n.slice(0, 4)}…${n.slice(-4)} shown to ${who ? `${who.username} (${who.role})` : 'a visitor'} on ${new URL(page.url()).pathname}${new URL(page.url()).search}`);
    }
  }
  return leaks;
}

/** Forgets who is logged in to a context (after a logout). */
export function loggedOut(page) {
  viewers.delete(page.context());
}
