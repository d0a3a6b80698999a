// A cardholder applies online, follows the application, activates the card that
// arrives by mail, reports a temporary loss and lifts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, login, shot } from '../lib.js';

test('a holder applies online, follows it, activates, suspends and lifts', async () => {
  const browser = await launch();
  try {
    const holder = await newPage(browser, { phone: true });
    await login(holder, 'holder3');
    assert.match(holder.url(), /\/portal$/);
    await shot(holder, 'portal-new-holder');

    // A holder without a card is offered a first card (the kinds that fit the cards).
    const offered = await holder.locator('#kind-online option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(offered, ['first']);
    await holder.selectOption('#ob', 'CMB');
    await holder.fill('#addr', '福建省厦门市思明区测试路1号');
    await holder.locator('form[action="/portal/apply"]:has(#addr) button').click();
    await holder.waitForLoadState('networkidle');
    const app = holder.locator('.app').first();
    assert.equal(await app.getAttribute('data-status'), 'submitted');
    const appId = await app.getAttribute('data-app');

    // The card office approves; the bank makes and mails the card.
    const clerk = await newPage(browser);
    await login(clerk, 'clerk');
    await clerk.locator(`tr[data-app="${appId}"] form[action$="/approve"] button`).click();
    await clerk.waitForLoadState('networkidle');
    const teller = await newPage(browser);
    await login(teller, 'teller.cmb');
    for (const step of ['produce', 'ship', 'deliver']) {
      await teller.locator(`tr[data-app="${appId}"] form[action$="/${step}"] button`).click();
      await teller.waitForLoadState('networkidle');
      assert.ok(await teller.locator('.flash.ok').isVisible(), `${step}: ${await teller.locator('main').innerText()}`);
    }

    await holder.reload();
    assert.equal(await holder.locator(`.app[data-app="${appId}"]`).getAttribute('data-status'), 'delivered');
    const steps = await holder.locator(`.app[data-app="${appId}"] .timeline li`).count();
    assert.equal(steps, 5, 'submitted, approved, in production, shipped, delivered');
    await shot(holder, 'portal-delivered');

    const card = holder.locator('.card').first();
    const cardNo = await card.getAttribute('data-card');
    assert.equal(await card.getAttribute('data-status'), 'issued');
    // The PIN is typed twice: two different ones are not even sent.
    await holder.fill(`#pin-${cardNo}`, '739164');
    await holder.fill(`#pin2-${cardNo}`, '739146');
    await holder.locator(`form[action="/portal/cards/${cardNo}/activate"] button`).click();
    assert.equal(await holder.locator(`#pin2-${cardNo}`).evaluate((el) => el.validity.valid), false);
    assert.equal(await holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'issued');
    await holder.fill(`#pin-${cardNo}`, '123456');
    await holder.fill(`#pin2-${cardNo}`, '123456');
    await holder.locator(`form[action="/portal/cards/${cardNo}/activate"] button`).click();
    await holder.waitForLoadState('networkidle');
    // The refusal is in the page's language, with the rule's detail.
    const refusal = await holder.locator('.flash.err').innerText();
    assert.match(refusal, /密码过于简单/);
    assert.doesNotMatch(refusal, /[a-z]{2,}/, 'no English in a Chinese refusal');
    await holder.fill(`#pin-${cardNo}`, '739164');
    await holder.fill(`#pin2-${cardNo}`, '739164');
    await holder.locator(`form[action="/portal/cards/${cardNo}/activate"] button`).click();
    await holder.waitForLoadState('networkidle');
    assert.equal(await holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
    // With a card, 首次申领 is offered no more.
    assert.equal(await holder.locator('#kind-online option[value="first"]').count(), 0);

    // The e-card: a QR code signed with SM2 that refreshes itself.
    await holder.getByRole('button', { name: /出示二维码|Show my QR/ }).click();
    await holder.locator('#qr figure svg').waitFor();
    assert.match(await holder.locator('#qr').getAttribute('data-token'), /^SSC1\.[A-Za-z0-9_-]{146}$/);
    assert.ok(Number(await holder.locator('#qr').getAttribute('hx-trigger').then((t) => t.match(/\d+/)[0])) < 60);
    await shot(holder, 'portal-qr');
    // Balances and "who checked my card" are on the portal too.
    assert.ok(await holder.locator('#money-h').isVisible());
    assert.ok(await holder.locator('#uses-h').isVisible());
    // Sign the e-card into an app channel, then revoke it.
    await holder.fill('#chan', 'city-app');
    await holder.locator('form[action="/portal/authorizations/channel"] button').click();
    await holder.waitForLoadState('networkidle');
    const auth = holder.locator('li[data-auth]', { hasText: 'city-app' });
    await auth.locator('button').click();
    await holder.waitForLoadState('networkidle');
    assert.ok(await holder.locator('li[data-auth]', { hasText: 'city-app' }).locator('.badge').isVisible());

    await holder.locator(`form[action="/portal/cards/${cardNo}/suspend"] button`).click();
    await holder.waitForLoadState('networkidle');
    assert.equal(await holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'suspended');
    assert.equal(await holder.locator('#qr-box').count(), 0, 'no QR code while the card is suspended');
    await shot(holder, 'portal-suspended');
    await holder.locator(`form[action="/portal/cards/${cardNo}/unsuspend"] button`).click();
    await holder.waitForLoadState('networkidle');
    assert.equal(await holder.locator(`.card[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
    await shot(holder, 'portal-active');
  } finally {
    await browser.close();
  }
});

test('a form without its CSRF token is refused', async () => {
  const res = await fetch(`${BASE}/portal/apply`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x&mode=online' });
  assert.equal(res.status, 403);
});
