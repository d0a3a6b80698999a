// Every page in both languages as every role, at desktop and phone sizes: no raw code
// (snake_case or dotted identifiers), no word of the other language, no horizontal overflow
// on a phone, no full document number or SSN the role may not see (lib.js MAY_SEE_FULL), and
// no critical or serious axe-core violation at either size. A screenshot of
// each page, language and size is saved.
// Text inside translate="no" (names, places, logins: data, not words of the UI), <code>, and
// elements in another language (lang=...) is not judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, launch, login, shot, readText, strayWords, axe, overflowX, fullNumberLeaks, t, tRe } from '../lib.js';

// An elderly holder reads the same pages in elder mode (长辈版).
// A payer's staff (the pension fund) see their own benefit batches.
const ROLES = ['holder1', 'holder2+elder', 'teller.icbc', 'clerk', 'admin', 'pf.xm'];
const MAX_PAGES = 8;

/** Same-origin page links of the current page, not ones that change settings or log out. */
async function links(page) {
  const hrefs = await page.locator('a[href]:not([download])').evaluateAll((as) => as.map((a) => a.href));
  // "/" only redirects to the home page, which is crawled already.
  return hrefs.filter((h) => h.startsWith(BASE) && h !== `${BASE}/` && !/\/(prefs|static|logout|api)\//.test(h) && !h.includes('#'));
}

async function apiLogin(username) {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  return res.json();
}

/** Extra pages no link leads to: a found person at the desk, a card's audit trail, errors. */
async function extraPages(role) {
  const holder = await apiLogin('holder1');
  const cards = await fetch(`${BASE}/api/v1/persons/${holder.person_id}/cards`, {
    headers: { authorization: `Bearer ${holder.token}` },
  }).then((r) => (r.ok ? r.json() : []));
  const cardNo = (Array.isArray(cards) ? cards : cards.items ?? [])[0]?.card_no;
  const pages = ['/no-such-page'];
  if (role.startsWith('teller')) pages.push(`/desk?q=${holder.person_id}`, '/portal');
  if (role === 'clerk' || role === 'admin') pages.push(`/console/card?no=${cardNo}`, '/console/card', '/portal', '/console/benefits');
  if (role === 'pf.xm') pages.push('/console', '/console/benefits/no-such-batch');
  if (role.startsWith('holder')) pages.push('/desk', '/console');
  return pages;
}

for (const locale of ['zh-CN', 'en']) {
  test(`every page in ${locale} for every role: words of the page's language, no axe violation`, async () => {
    const browser = await launch();
    const problems = [];
    try {
      for (const role of ROLES) {
        // axe-core is injected as a script, which the pages' CSP (rightly) forbids: bypassed here only.
        const context = await browser.newContext({ locale: locale === 'en' ? 'en-US' : 'zh-CN', bypassCSP: true, viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        page.setDefaultTimeout(15000);
        const [user, elder] = role.split('+');
        if (elder) await context.addCookies([{ name: 'sscard_elder', value: '1', url: BASE }]);
        await login(page, user);
        if (elder) assert.match(await page.locator('body').getAttribute('class'), /elder/);
        const seen = new Set();
        const queue = [page.url(), ...(await extraPages(role)).map((p) => BASE + p)];
        while (queue.length && seen.size < MAX_PAGES) {
          const url = queue.shift();
          if (seen.has(url)) continue;
          seen.add(url);
          // A download (the holder's data export) is a file, not a page.
          const res = await page.goto(url).catch((e) => (/Download is starting/.test(e.message) ? null : Promise.reject(e)));
          if (res === null) continue;
          await page.waitForLoadState('networkidle');
          const type = res.headers()['content-type'] ?? '';
          if (!type.startsWith('text/html')) problems.push(`${role} ${url}: answered ${type}, not a page`);
          const where = `${locale} ${role} ${url.replace(BASE, '')}`;
          assert.equal(await page.locator('html').getAttribute('lang'), locale, where);
          for (const w of strayWords(await page.evaluate(readText), locale)) problems.push(`${where}: ${w}`);
          // No full document number or SSN the role may not see (lib.js MAY_SEE_FULL, DESIGN §8).
          for (const l of await fullNumberLeaks(page)) problems.push(`${where}: ${l}`);
          const name = `crawl-${locale}-${role}-${url.replace(BASE, '').replace(/[^a-z0-9]+/gi, '_').slice(0, 60)}`;
          for (const [size, phone] of [['desktop', false], ['phone', true]]) {
            await page.setViewportSize(phone ? { width: 390, height: 844 } : { width: 1280, height: 900 });
            // axe on every page in both languages at both sizes: a word can change a contrast or a
            // label, so the English pages are not taken on trust from the Chinese ones.
            for (const v of await axe(page)) problems.push(`${where} ${size}: axe ${v}`);
            if (phone && (await overflowX(page)) > 0) problems.push(`${where} phone: wider than the screen`);
            await shot(page, `${name}-${size}`);
          }
          await page.setViewportSize({ width: 1280, height: 900 });
          for (const l of await links(page)) if (!seen.has(l)) queue.push(l);
        }
        await page.context().close();
      }
    } finally {
      await browser.close();
    }
    assert.deepEqual(problems, []);
  });
}

test('the word check finds codes and the other language; catalog words fill in', () => {
  assert.deepEqual(strayWords('卡号 A00000794 状态 正常 QR ID', 'zh-CN'), []);
  assert.deepEqual(strayWords('状态 ready_for_pickup', 'zh-CN'), ['code ready_for_pickup', 'latin ready_for_pickup']);
  assert.deepEqual(strayWords('审计 card.produced', 'zh-CN'), ['code card.produced', 'latin card.produced']);
  assert.deepEqual(strayWords('银行账户往来 card', 'zh-CN'), ['latin card']);
  assert.deepEqual(strayWords('Status: active', 'en'), []);
  assert.deepEqual(strayWords('Status: 正常', 'en'), ['cjk 正常']);
  // The flows' expected words come from the server's catalogs, arguments filled in or left open.
  assert.equal(t('zh-CN', 'ok_fee', { yuan: '20.00' }), '已收取补卡费 20.00 元');
  assert.match('Card A00000794 is now: active', tRe('en', 'ok_card', { status: t('en', 'st_active') }));
  assert.doesNotMatch('Card A00000794 is now: lost', tRe('en', 'ok_card', { status: t('en', 'st_active') }));
  assert.throws(() => t('en', 'no_such_key'));
});
