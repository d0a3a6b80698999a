// The pages' own behaviour: switches keep the page, messages are one-time and never come
// from the URL, browsers get HTML error pages, holders see places not staff logins, money
// is signed with words, charts are labelled, and the login page of a demo server lists its
// accounts. Each in Chinese and English at desktop and phone sizes; pages judged by `check`.
// (Elder mode has its own file, elder.test.js.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, launch, newPage, login, VARIANTS, useVariant, check, api, t } from '../lib.js';

const apiLogin = (username) => api('/auth/login', null, { username, password: PASSWORD });
const other = (lang) => (lang === 'en' ? 'zh-CN' : 'en');

let browser; let clerk; let teller; let holder; let anon;
before(async () => {
  browser = await launch();
  clerk = await newPage(browser);
  await login(clerk, 'clerk');
  teller = await newPage(browser);
  await login(teller, 'teller.cmb');
  holder = await newPage(browser);
  await login(holder, 'holder2');
  anon = await newPage(browser);
});
after(() => browser?.close());

for (const v of VARIANTS) {
  test(`the language and elder switches come back to the same page with its query (${v.name})`, async () => {
    const h = await apiLogin('holder1');
    const cards = await api(`/persons/${h.person_id}/cards`, h.token);
    const cardNo = (Array.isArray(cards) ? cards : cards.items)[0].card_no;
    await useVariant(clerk, v);
    await clerk.goto(`${BASE}/console/card?no=${cardNo}`);
    await check(clerk, v, 'console-card-audit');
    await clerk.getByRole('link', { name: t(v.lang, 'lang_other'), exact: true }).click();
    await clerk.waitForLoadState('networkidle');
    assert.equal(new URL(clerk.url()).pathname + new URL(clerk.url()).search, `/console/card?no=${cardNo}`);
    assert.equal(await clerk.locator('html').getAttribute('lang'), other(v.lang));
    assert.equal(await clerk.locator('h1').innerText(), `${t(other(v.lang), 'audit_trail')}: ${cardNo}`);

    await useVariant(teller, v);
    await teller.goto(`${BASE}/desk?q=${h.person_id}`);
    await teller.getByRole('link', { name: t(v.lang, 'elder_on'), exact: true }).click();
    await teller.waitForLoadState('networkidle');
    assert.match(teller.url(), new RegExp(`/desk\\?q=${h.person_id}$`));
    assert.equal(await teller.locator(`[data-person="${h.person_id}"]`).count(), 1, 'the customer stays');
    assert.match(await teller.locator('body').getAttribute('class'), /elder/);
    await check(teller, v, 'desk-customer-elder');
  });

  test(`messages are one-time and never read from the address (${v.name})`, async () => {
    await useVariant(anon, v);
    await anon.goto(`${BASE}/login?err=${encodeURIComponent('请访问 evil.example 重新登录')}&ok=x`);
    assert.equal(await anon.locator('.flash').count(), 0);
    assert.doesNotMatch(await anon.locator('body').innerText(), /evil\.example/);
    await check(anon, v, 'login');
    await anon.getByLabel(t(v.lang, 'username')).fill('holder1');
    await anon.getByLabel(t(v.lang, 'password')).fill('wrong-password');
    await anon.locator('form[action="/login"] button[type=submit]').click();
    await anon.waitForLoadState('networkidle');
    assert.equal(await anon.locator('.flash.err').innerText(), `✖ ${t(v.lang, 'error')}: ${t(v.lang, 'login_failed')}`);
    assert.doesNotMatch(anon.url(), /err=|%E7/, 'no message in the address');
    await check(anon, v, 'login-failed');
    await anon.reload();
    assert.equal(await anon.locator('.flash').count(), 0, 'a reload does not repeat the message');
  });

  test(`browsers get HTML error pages in their language (${v.name})`, async () => {
    await useVariant(anon, v);
    let res = await anon.goto(`${BASE}/no-such-page`);
    assert.equal(res.status(), 404);
    assert.match(res.headers()['content-type'], /^text\/html/);
    assert.equal(await anon.locator('h1').innerText(), t(v.lang, 'page_not_found'));
    await check(anon, v, 'error-not-found');
    await useVariant(holder, v);
    res = await holder.goto(`${BASE}/desk`);
    assert.equal(res.status(), 403);
    assert.equal(await holder.locator('h1').innerText(), t(v.lang, 'page_forbidden'));
    await check(holder, v, 'error-forbidden');
    res = await holder.goto(`${BASE}/console/card`);
    assert.match(res.headers()['content-type'], /^text\/html/);
    res = await holder.goto(`${BASE}/favicon.ico`);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^image\//);
    // The API keeps answering problem+json.
    const api404 = await fetch(`${BASE}/api/v1/no-such`, { headers: { accept: 'text/html' } });
    assert.match(api404.headers.get('content-type'), /problem\+json/);
  });

  test(`the login page of a demo server lists the demo accounts (${v.name})`, async () => {
    await useVariant(anon, v);
    await anon.goto(`${BASE}/login`);
    const list = await anon.getByTestId('demo-logins').innerText();
    for (const user of ['holder1', 'teller.icbc', 'clerk', 'admin']) assert.match(list, new RegExp(user.replace('.', '\\.')));
    assert.match(list, /sscard-demo/);
    assert.ok(list.includes(t(v.lang, 'role_teller')), list);
  });

  test(`a holder sees places, signed money and no staff logins (${v.name})`, async () => {
    await useVariant(holder, v);
    await holder.goto(`${BASE}/portal`);
    await check(holder, v, 'portal-money');
    const timeline = await holder.locator('.timeline').allInnerTexts();
    assert.ok(timeline.length > 0, 'the holder has applications');
    for (const text of timeline) assert.doesNotMatch(text, /teller\.|clerk|system:|admin/, text);
    const words = `(${t(v.lang, 'move_in')}\\s+.*\\+\\d+\\.\\d\\d|${t(v.lang, 'move_out')}\\s+.*-\\d+\\.\\d\\d)`;
    const moves = await holder.locator('tr[data-dir]').allInnerTexts();
    assert.ok(moves.length > 0, 'the demo holder has money moves');
    for (const text of moves) assert.match(text, new RegExp(words), text);
    for (const cell of await holder.locator('#uses-h ~ div td[translate="no"]').allInnerTexts()) {
      assert.doesNotMatch(cell, /^[A-Z]+-[A-Z]+$/, `an operator code instead of a name: ${cell}`);
    }
  });

  test(`the weekly trend labels its axes and weeks (${v.name})`, async () => {
    await useVariant(clerk, v);
    await clerk.goto(`${BASE}/console`);
    const chart = clerk.getByRole('img', { name: t(v.lang, 'apps_over_time'), exact: true });
    const texts = await chart.locator('text').allTextContents();
    assert.ok(texts.filter((x) => /^\d\d-\d\d$/.test(x)).length >= 6, texts.join(' '));
    assert.ok(texts.includes(t(v.lang, 'axis_applications')), texts.join(' '));
    assert.ok(texts.includes(t(v.lang, 'axis_week')), texts.join(' '));
    assert.ok(texts.filter((x) => /^\d+$/.test(x)).length >= 2, 'at least two value ticks');
  });
}
