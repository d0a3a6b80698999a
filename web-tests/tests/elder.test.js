// Elder mode (长辈版) on every holder-facing page, for two holders (an elderly holder born in
// 1948 and a demo holder), in Chinese and English, at desktop and phone sizes: every text is
// really larger than in the standard mode (computed font sizes of the same elements compared),
// headings stay above the body text, the QR and the most-used actions come first, the header
// does not wrap, and every page is judged by `check` in elder mode too. An elderly holder also
// walks the whole application path in elder mode: applies online, follows the progress,
// activates with the PIN typed twice and shows the QR, each page measured and judged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, launch, newPage, login, VARIANTS, useVariant, check, submit, api, token, newHolder, t, tRe } from '../lib.js';

// The same elements measured in both modes (the quick-actions block exists only in elder mode).
const PORTAL = ['body', 'h1', '#cards-h', '#ecard-h ~ h3', '.card p', '.card .badge', '.muted', 'label', 'button',
  'header .brand', 'header nav a', 'header .who', 'th', 'td', '.timeline li'];
const PAGE = ['body', 'h1', 'p', 'label', 'input', 'button', 'header .brand', 'header nav a'];
const MUST = ['body', 'h1', 'button', 'header nav a'];

async function sizes(page, selectors) {
  return page.evaluate((sels) => Object.fromEntries(sels.map((s) => {
    const e = document.querySelector(s);
    return [s, e ? parseFloat(getComputedStyle(e).fontSize) : null];
  })), selectors);
}

/** Every measured element is larger in elder mode than in the standard mode. */
function larger(normal, elder, where) {
  for (const s of MUST) assert.ok(normal[s] && elder[s], `${where}: ${s} on the page`);
  for (const [s, n] of Object.entries(normal)) {
    if (n === null || elder[s] === null) continue;
    assert.ok(elder[s] > n, `${where}: ${s} is ${elder[s]}px in elder mode, ${n}px in the standard one`);
  }
  assert.ok(elder.body >= 22, `${where}: body ${elder.body}px`);
  assert.ok(elder.h1 > elder.body, `${where}: h1 above the body text`);
}

/** A page in both modes: measured, then judged in elder mode. */
async function bothModes(page, v, url, selectors, name) {
  await useVariant(page, v, { elder: false });
  await page.goto(url);
  const normal = await sizes(page, selectors);
  await useVariant(page, v, { elder: true });
  await page.goto(url);
  assert.match(await page.locator('body').getAttribute('class'), /elder/);
  larger(normal, await sizes(page, selectors), `${name} ${v.name}`);
  await check(page, v, name);
}

let browser; const holders = []; let anon;
before(async () => {
  browser = await launch();
  // An elderly holder with an active card: made at the desk at once, activated with a PIN.
  const elderly = await newHolder('林阿婆', { birth: '19480305' });
  const teller = await token('teller.icbc');
  const app = await api('/applications', teller, { person_id: elderly.person.id, kind: 'first', channel: 'branch_instant', bank_code: 'ICBC', branch_code: 'ICBC-SM' });
  const [card] = await api(`/persons/${elderly.person.id}/cards`, teller).then((c) => (Array.isArray(c) ? c : c.items));
  assert.ok(app.id && card, 'the elderly holder has a card');
  const own = (await api('/auth/login', null, { username: elderly.username, password: PASSWORD })).token;
  await api(`/cards/${card.card_no}/activate`, own, { pin: '739164', pin_confirmation: '739164' });
  for (const username of [elderly.username, 'holder1']) {
    const page = await newPage(browser);
    await login(page, username);
    holders.push({ who: username === 'holder1' ? 'holder1' : 'elderly', page });
  }
  anon = await newPage(browser);
});
after(() => browser?.close());

for (const v of VARIANTS) {
  for (const h of ['elderly', 'holder1']) {
    test(`the portal in elder mode: larger, QR and the most-used actions first, loss (${h}, ${v.name})`, async () => {
      const { page } = holders.find((x) => x.who === h);
      await bothModes(page, v, `${BASE}/portal`, PORTAL, `elder-portal-${h}`);
      const whoLines = await page.locator('header .who').evaluate((e) => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)));
      assert.equal(whoLines, 1, 'the header item does not wrap');
      const first = page.locator('main section').first();
      assert.equal(await first.getAttribute('aria-labelledby'), 'quick-h');
      assert.equal(await first.locator('h2').innerText(), t(v.lang, 'quick_actions'));
      await first.locator('#qr figure svg').waitFor();
      assert.ok(await first.getByRole('link', { name: t(v.lang, 'balances_benefits'), exact: true }).isVisible());
      const suspend = first.getByRole('button', { name: t(v.lang, 'suspend'), exact: true }).first();
      assert.ok(await suspend.isVisible());
      await check(page, v, `elder-portal-qr-${h}`);

      // A temporary loss from the quick actions: the e-card text says it is paused.
      const cardNo = await page.locator('.card[data-status="active"]').first().getAttribute('data-card');
      await suspend.click();
      await page.waitForLoadState('networkidle');
      assert.equal(await page.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'suspended');
      assert.equal(await page.getByTestId('no-ecard').innerText(), t(v.lang, 'no_ecard_suspended'));
      const badge = page.locator(`.card[data-card="${cardNo}"] .badge`);
      const body = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
      assert.ok((await badge.evaluate((e) => e.getBoundingClientRect().height)) < 2.2 * body, 'the badge is one line');
      await check(page, v, `elder-portal-suspended-${h}`);
      await submit(page, `.card form[action="/portal/cards/${cardNo}/unsuspend"] button`);
      assert.equal(await page.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
    });

    test(`the error pages a holder meets, in elder mode (${h}, ${v.name})`, async () => {
      const { page } = holders.find((x) => x.who === h);
      await bothModes(page, v, `${BASE}/desk`, PAGE, `elder-forbidden-${h}`);
      assert.equal(await page.locator('h1').innerText(), t(v.lang, 'page_forbidden'));
      await bothModes(page, v, `${BASE}/no-such-page`, PAGE, `elder-not-found-${h}`);
      assert.equal(await page.locator('h1').innerText(), t(v.lang, 'page_not_found'));
    });
  }

  test(`the login page in elder mode (${v.name})`, async () => {
    await bothModes(anon, v, `${BASE}/login`, PAGE, 'elder-login');
    assert.equal(await anon.locator('h1').innerText(), t(v.lang, 'login'));
  });

  test(`elder mode and the language are switched with one click and remembered (${v.name})`, async () => {
    const { page } = holders.find((x) => x.who === 'holder1');
    await useVariant(page, v, { elder: false });
    await page.goto(`${BASE}/portal`);
    await page.getByRole('link', { name: t(v.lang, 'elder_on'), exact: true }).click();
    await page.waitForLoadState('networkidle');
    assert.match(await page.locator('body').getAttribute('class'), /elder/);
    const back = v.lang === 'en' ? 'zh-CN' : 'en';
    await page.getByRole('link', { name: t(v.lang, 'lang_other'), exact: true }).click();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('html').getAttribute('lang'), back);
    await page.goto(`${BASE}/portal`);
    assert.match(await page.locator('body').getAttribute('class'), /elder/, 'elder mode remembered');
    assert.equal(await page.locator('html').getAttribute('lang'), back, 'language remembered');
    assert.ok(await page.getByRole('heading', { name: t(back, 'portal'), exact: true }).isVisible());
    await page.getByRole('link', { name: t(back, 'elder_off'), exact: true }).click();
    await page.waitForLoadState('networkidle');
    assert.doesNotMatch(await page.locator('body').getAttribute('class') ?? '', /elder/);
  });
}

/** The card office approves and the bank makes, mails and delivers (their pages are tested in holder.test.js). */
async function officeAndBank(appId) {
  const [clerk, bank] = [await token('clerk'), await token('teller.cmb')];
  await api(`/applications/${appId}/approve`, clerk, {});
  for (const step of ['produce', 'ship', 'deliver']) await api(`/applications/${appId}/${step}`, bank, {});
}

for (const v of VARIANTS) {
  test(`an elderly holder applies, follows, activates with the PIN twice and shows the QR, all in elder mode (${v.name})`, async () => {
    const elderly = await newHolder('陈阿公', { birth: '19470812' });
    const page = await newPage(browser, { phone: v.phone, locale: v.lang });
    try {
      await login(page, elderly.username);
      const portal = `${BASE}/portal`;
      await bothModes(page, v, portal, PAGE, 'elder-path-new');
      assert.equal(await page.locator('main section').first().getAttribute('aria-labelledby'), 'quick-h');

      // Apply online: the only kind offered to someone without a card is a first card.
      assert.deepEqual(await page.locator('#kind-online option').evaluateAll((os) => os.map((o) => o.value)), ['first']);
      await page.selectOption('#ob', 'CMB');
      await page.fill('#addr', '福建省厦门市思明区长寿路8号');
      await submit(page, 'form[action="/portal/apply"]:has(#addr) button');
      assert.match(await page.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_applied', { kind: t(v.lang, 'k_first') }));
      assert.match(await page.locator('body').getAttribute('class'), /elder/);
      await check(page, v, 'elder-path-applied');
      const appId = await page.locator('.app').first().getAttribute('data-app');
      assert.equal(await page.locator(`.app[data-app="${appId}"]`).getAttribute('data-status'), 'submitted');

      // Follow it: every step on the timeline, larger in elder mode.
      await officeAndBank(appId);
      await bothModes(page, v, portal, PORTAL, 'elder-path-delivered');
      assert.equal(await page.locator(`.app[data-app="${appId}"]`).getAttribute('data-status'), 'delivered');
      assert.equal(await page.locator(`.app[data-app="${appId}"] .timeline li`).count(), 5, 'submitted, approved, in production, shipped, delivered');

      // Activate: two different PINs are not sent, the same one twice is.
      const cardNo = await page.locator('.card').first().getAttribute('data-card');
      assert.equal(await page.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'issued');
      const form = `form[action="/portal/cards/${cardNo}/activate"] button`;
      await page.fill(`#pin-${cardNo}`, '739164');
      await page.fill(`#pin2-${cardNo}`, '739146');
      await page.locator(form).click();
      const mismatch = await page.locator(`#pin2-${cardNo}`).evaluate((el) => [el.validity.valid, el.validationMessage]);
      assert.deepEqual(mismatch, [false, t(v.lang, 'err_pin_mismatch')]);
      await page.fill(`#pin-${cardNo}`, '739164');
      await page.fill(`#pin2-${cardNo}`, '739164');
      await submit(page, form);
      assert.equal(await page.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
      assert.ok(!(await page.content()).includes('739164'), 'the PIN is never shown');
      await check(page, v, 'elder-path-active');

      // The QR comes first in elder mode, without a click.
      await bothModes(page, v, portal, PORTAL, 'elder-path-qr');
      const first = page.locator('main section').first();
      await first.locator('#qr figure svg').waitFor();
      assert.match(await first.locator('#qr').getAttribute('data-token'), /^SSC1\.[A-Za-z0-9_-]{146}$/);
      await check(page, v, 'elder-path-qr-shown');
    } finally {
      await page.context().close();
    }
  });
}
