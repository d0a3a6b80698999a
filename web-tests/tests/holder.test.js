// A cardholder applies online, follows the application, activates the card that arrives by
// mail with a PIN typed twice, shows the e-card, signs it into an app, reports a temporary
// loss and lifts it, then reports the card lost and asks for a replacement. In Chinese and
// English, at desktop and phone sizes (a new holder per variant: the flow changes their
// cards); the clerk and the bank's teller keep one login. Every page reached is judged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BASE, launch, newPage, login, VARIANTS, useVariant, check, submit, newHolder, t, tRe } from '../lib.js';

let browser; let clerk; let teller; let demo;
before(async () => {
  browser = await launch();
  demo = await newPage(browser);
  await login(demo, 'holder2');
  clerk = await newPage(browser);
  await login(clerk, 'clerk');
  teller = await newPage(browser);
  await login(teller, 'teller.cmb');
});
after(() => browser?.close());

/** The online application, approved by the card office and mailed by the bank. */
async function applyAndReceive(holder, v) {
  const offered = await holder.locator('#kind-online option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(offered, ['first'], 'a holder without a card is offered a first card');
  await holder.selectOption('#ob', 'CMB');
  await holder.fill('#addr', '福建省厦门市思明区测试路1号');
  await submit(holder, 'form[action="/portal/apply"]:has(#addr) button');
  assert.match(await holder.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_applied', { kind: t(v.lang, 'k_first') }));
  const app = holder.locator('.app').first();
  assert.equal(await app.getAttribute('data-status'), 'submitted');
  const appId = await app.getAttribute('data-app');
  await check(holder, v, 'portal-applied');

  await useVariant(clerk, v);
  await clerk.goto(`${BASE}/console`);
  await submit(clerk, `tr[data-app="${appId}"] form[action$="/approve"] button`);
  assert.match(await clerk.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_step', { status: t(v.lang, 'st_approved') }));
  await check(clerk, v, 'console-approved');
  await useVariant(teller, v);
  await teller.goto(`${BASE}/desk`);
  for (const [step, status] of [['produce', 'st_in_production'], ['ship', 'st_shipped'], ['deliver', 'st_delivered']]) {
    await submit(teller, `tr[data-app="${appId}"] form[action$="/${step}"] button`);
    assert.match(await teller.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_step', { status: t(v.lang, status) }), step);
    await check(teller, v, `desk-bank-${step}`);
  }
  await holder.reload();
  assert.equal(await holder.locator(`.app[data-app="${appId}"]`).getAttribute('data-status'), 'delivered');
  const steps = await holder.locator(`.app[data-app="${appId}"] .timeline li`).count();
  assert.equal(steps, 5, 'submitted, approved, in production, shipped, delivered');
  await check(holder, v, 'portal-delivered');
}

/** The PIN typed twice: two different ones are not sent; a trivial one is refused in words. */
async function activate(holder, v, cardNo) {
  const form = `form[action="/portal/cards/${cardNo}/activate"] button`;
  await holder.fill(`#pin-${cardNo}`, '739164');
  await holder.fill(`#pin2-${cardNo}`, '739146');
  await holder.locator(form).click();
  const mismatch = await holder.locator(`#pin2-${cardNo}`).evaluate((el) => [el.validity.valid, el.validationMessage]);
  assert.deepEqual(mismatch, [false, t(v.lang, 'err_pin_mismatch')]);
  assert.equal(await holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'issued');
  await holder.fill(`#pin-${cardNo}`, '123456');
  await holder.fill(`#pin2-${cardNo}`, '123456');
  await submit(holder, form);
  assert.equal(await holder.locator('.flash.err').innerText(), `✖ ${t(v.lang, 'error')}: ${t(v.lang, 'err_trivial_pin')}`);
  await check(holder, v, 'portal-pin-refused');
  await holder.fill(`#pin-${cardNo}`, '739164');
  await holder.fill(`#pin2-${cardNo}`, '739164');
  await submit(holder, form);
  assert.equal(await holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
  assert.ok(!(await holder.content()).includes('739164'), 'the PIN is never shown');
  // With a card, 首次申领 is offered no more.
  assert.equal(await holder.locator('#kind-online option[value="first"]').count(), 0);
  await check(holder, v, 'portal-active');
}

/** The e-card: a QR code signed with SM2 that refreshes itself; an app channel signed in and revoked. */
async function ecard(holder, v) {
  await holder.getByRole('button', { name: t(v.lang, 'show_qr'), exact: true }).click();
  await holder.locator('#qr figure svg').waitFor();
  assert.match(await holder.locator('#qr').getAttribute('data-token'), /^SSC1\.[A-Za-z0-9_-]{146}$/);
  assert.ok(Number((await holder.locator('#qr').getAttribute('hx-trigger')).match(/\d+/)[0]) < 60);
  await check(holder, v, 'portal-qr');
  assert.ok(await holder.locator('#money-h').isVisible());
  assert.ok(await holder.locator('#uses-h').isVisible());
  await holder.fill('#chan', 'city-app');
  await submit(holder, 'form[action="/portal/authorizations/channel"] button');
  const auth = holder.locator('li[data-auth]', { hasText: 'city-app' });
  await submit(holder, `li[data-auth="${await auth.getAttribute('data-auth')}"] button`);
  assert.equal(await holder.locator('li[data-auth]', { hasText: 'city-app' }).locator('.badge').innerText(), t(v.lang, 'revoked'));
  await check(holder, v, 'portal-channel-revoked');
}

/** Temporary loss and its lift, then formal loss and the replacement it needs. */
async function loss(holder, v, cardNo) {
  const status = () => holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status');
  await submit(holder, `form[action="/portal/cards/${cardNo}/suspend"] button`);
  assert.equal(await status(), 'suspended');
  assert.equal(await holder.locator('#qr-box').count(), 0, 'no QR code while the card is suspended');
  assert.equal(await holder.getByTestId('no-ecard').innerText(), t(v.lang, 'no_ecard_suspended'));
  await check(holder, v, 'portal-suspended');
  await submit(holder, `form[action="/portal/cards/${cardNo}/unsuspend"] button`);
  assert.equal(await status(), 'active');
  holder.once('dialog', (d) => d.accept());
  await submit(holder, `form[action="/portal/cards/${cardNo}/report-lost"] button`);
  assert.equal(await status(), 'lost');
  assert.equal(await holder.getByTestId('no-ecard').innerText(), t(v.lang, 'no_ecard_lost'));
  await check(holder, v, 'portal-lost');
  // The replacement form asks only where to collect it: its kind is a replacement.
  const form = holder.locator('form[action="/portal/replace"]');
  assert.equal(await form.locator('select[name=kind]').count(), 0, 'no choice of kind for a replacement');
  await form.locator('select[name=branch]').selectOption('CMB|CMB-HC');
  await submit(holder, 'form[action="/portal/replace"] button');
  assert.match(await holder.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_applied', { kind: t(v.lang, 'k_replacement') }));
  await check(holder, v, 'portal-replacement-applied');
}

for (const v of VARIANTS) {
  test(`a holder applies online, follows it, activates, shows the e-card, reports loss and asks for a replacement (${v.name})`, async () => {
    const { username } = await newHolder('网上申领');
    const holder = await newPage(browser, { phone: v.phone, locale: v.lang });
    try {
      await login(holder, username);
      assert.match(holder.url(), /\/portal$/);
      await check(holder, v, 'portal-new-holder');
      await applyAndReceive(holder, v);
      const cardNo = await holder.locator('.card').first().getAttribute('data-card');
      assert.equal(await holder.locator('.card').first().getAttribute('data-status'), 'issued');
      await activate(holder, v, cardNo);
      await ecard(holder, v);
      await loss(holder, v, cardNo);
    } finally {
      await holder.context().close();
    }
  });
}

for (const v of VARIANTS) {
  test(`a holder certifies for their benefits, sees who read their data and downloads it (${v.name})`, async () => {
    await useVariant(demo, v);
    await demo.goto(`${BASE}/portal`);
    assert.equal(await demo.locator('#reads-h').innerText(), t(v.lang, 'reads'));
    assert.equal(await demo.locator('#benefits-h').innerText(), t(v.lang, 'benefits'));
    await submit(demo, 'form[action="/portal/benefits/certify"] button');
    assert.match(await demo.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_certified'));
    await check(demo, v, 'portal-certified');
    const [download] = await Promise.all([
      demo.waitForEvent('download'),
      demo.getByRole('button', { name: t(v.lang, 'download_my_data'), exact: true }).click(),
    ]);
    const text = await readFile(await download.path(), 'utf8');
    const data = JSON.parse(text);
    assert.ok(data && typeof data === 'object', 'the download is a JSON document');
    assert.doesNotMatch(text, /pin_hash|"pin"/, 'no PIN hash leaves');
  });
}

test('a form without its CSRF token is refused', async () => {
  const res = await fetch(`${BASE}/portal/apply`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x&mode=online' });
  assert.equal(res.status, 403);
});
