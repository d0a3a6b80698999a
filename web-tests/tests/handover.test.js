// The desk as a teller and a clerk need it: a card handed over only after its fee (paid or
// waived by the card office) and a check of the collector's document; loss at the desk; the
// customer typing their own PIN twice; forms that start on what works; rejections with reasons.
// Each flow runs in Chinese and English at desktop and phone sizes, and every page it reaches
// is judged (language, overflow, axe) by `check`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newPage, login, residentId, uniqueSeq, randomBirth, VARIANTS, useVariant, check, submit, api, token, t, tRe,
} from '../lib.js';

let browser; let desk; let office; let teller; let clerk;
before(async () => {
  browser = await launch();
  [teller, clerk] = [await token('teller.icbc'), await token('clerk')];
  desk = await newPage(browser);
  await login(desk, 'teller.icbc');
  office = await newPage(browser);
  await login(office, 'clerk');
  // Formal loss and lifting a loss ask first: the person in front of the teller confirms.
  for (const p of [desk, office]) p.on('dialog', (d) => d.accept());
});
after(() => browser?.close());

async function flash(page, kind) {
  const el = page.locator(`.flash.${kind}`);
  assert.ok(await el.isVisible(), `no ${kind} message: ${await page.locator('main').innerText()}`);
  return el.innerText();
}

/** A walk-in registered through the API: the desk finds them by their id. */
async function walkIn(name) {
  const doc = residentId('350203', randomBirth(), uniqueSeq());
  const person = await api('/persons', teller, { doc_type: 'resident_id', doc_number: doc, name, region: '350203' });
  return { doc, person };
}

/** An instant card made at the desk, activated by the customer's PIN typed twice on their page. */
async function instantCardWithPin(page, v, doc) {
  const { lang } = v;
  const kinds = await page.locator('#kind option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(kinds, ['first', 'temporary'], 'a person without a card: a first or a temporary card');
  assert.equal(await page.locator('#branch').inputValue(), 'ICBC|ICBC-SM', 'an instant card starts on the branch with a printer');
  await page.selectOption('#channel', 'branch_instant');
  await submit(page, 'form[action="/desk/apply"] button[type=submit]');
  assert.match(await flash(page, 'ok'), tRe(lang, 'ok_instant', { status: t(lang, 'st_issued') }));
  await check(page, v, 'desk-instant-issued');
  const card = page.locator('tr[data-card]').first();
  const cardNo = await card.getAttribute('data-card');
  assert.equal(await card.getAttribute('data-status'), 'issued');

  // The teller's page has no PIN field: the teller makes a one-time code, and the customer
  // types the PIN twice on the customer screen, which is nobody's session.
  assert.equal(await page.locator('input[name=pin]').count(), 0, 'no PIN field on the teller page');
  await submit(page, `form[action="/desk/pin/${cardNo}"] button`);
  assert.equal(await page.locator('h1').innerText(), t(lang, 'desk_pin_title'));
  const code = await page.getByTestId('pin-code').innerText();
  assert.match(code, /^[2-9A-HJKMNP-Z]{8}$/);
  assert.equal(await page.locator('input[name=pin]').count(), 0, 'still no PIN field for the teller');
  await check(page, v, 'desk-pin-code');
  const screen = await newPage(browser, { phone: v.phone, locale: lang });
  try {
    await useVariant(screen, v);
    await screen.goto(`${BASE}/kiosk/pin`);
    assert.equal(await screen.locator('header .who').count(), 0, 'nobody is logged in on the customer screen');
    await check(screen, v, 'kiosk-code');
    await screen.fill('#kiosk-code', code.toLowerCase());
    await submit(screen, 'form[action="/kiosk/pin"] button');
    assert.equal(await screen.getByTestId('kiosk-card').innerText(), `*****${cardNo.slice(-4)}`);
    const shown = await screen.content();
    assert.ok(!shown.includes(doc) && !shown.includes(cardNo), 'the customer screen shows no personal data');
    await check(screen, v, 'kiosk-pin');
    await screen.fill('#pin', '739164');
    await screen.fill('#pin_confirmation', '739146');
    await screen.locator('form[action="/kiosk/pin"] button[type=submit]').click();
    const mismatch = await screen.locator('#pin_confirmation').evaluate((el) => [el.validity.valid, el.validationMessage]);
    assert.deepEqual(mismatch, [false, t(lang, 'err_pin_mismatch')], 'two different PINs are not sent');
    // A PIN that is too easy comes back in the page's language, the fields empty.
    await screen.fill('#pin', '123456');
    await screen.fill('#pin_confirmation', '123456');
    await submit(screen, 'form[action="/kiosk/pin"] button[type=submit]');
    assert.match(await flash(screen, 'err'), new RegExp(t(lang, 'err_trivial_pin').replace(/[()（）]/g, '.')));
    assert.equal(await screen.locator('#pin').inputValue(), '', 'the PIN is not sent back');
    await check(screen, v, 'kiosk-pin-refused');
    await screen.fill('#pin', '739164');
    await screen.fill('#pin_confirmation', '739164');
    await submit(screen, 'form[action="/kiosk/pin"] button[type=submit]');
    assert.equal(await screen.getByTestId('kiosk-done').innerText(), `✔ ${t(lang, 'kiosk_done')}`);
    assert.ok(!(await screen.content()).includes('739164'), 'the PIN is never shown');
    await check(screen, v, 'kiosk-done');
    // The code works once.
    await screen.goto(`${BASE}/kiosk/pin?code=${code}`);
    assert.match(await flash(screen, 'err'), new RegExp(t(lang, 'kiosk_bad_code')));
  } finally {
    await screen.context().close();
  }
  // The teller's page learns it without a reload.
  await page.locator('[data-pin-state="done"]').waitFor();
  assert.equal(await page.locator('#pin-state').innerText(), `✔ ${t(lang, 'desk_pin_done')}`);
  await check(page, v, 'desk-pin-done');
  await submit(page, `main a[href^="/desk?q="]`);
  assert.equal(await page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
  assert.ok(!(await page.content()).includes('739164'), 'the PIN is never shown');
  await check(page, v, 'desk-activated');
  return cardNo;
}

/** Temporary loss, its lift and formal loss at the desk; the last two ask first. */
async function lossAtTheDesk(page, v, cardNo) {
  const status = () => page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status');
  const badge = () => page.locator(`tr[data-card="${cardNo}"] .badge`).innerText();
  await submit(page, `form[action="/desk/cards/${cardNo}/suspend"] button`);
  assert.equal(await status(), 'suspended');
  assert.equal(await badge(), t(v.lang, 'st_suspended'));
  await check(page, v, 'desk-card-suspended');
  assert.equal(await page.locator(`form[action="/desk/cards/${cardNo}/unsuspend"][data-confirm]`).count(), 1);
  await submit(page, `form[action="/desk/cards/${cardNo}/unsuspend"] button`);
  assert.equal(await status(), 'active');
  assert.equal(await page.locator(`form[action="/desk/cards/${cardNo}/report-lost"][data-confirm]`).count(), 1);
  await submit(page, `form[action="/desk/cards/${cardNo}/report-lost"] button`);
  assert.equal(await status(), 'lost');
  assert.equal(await badge(), t(v.lang, 'st_lost'));
  await check(page, v, 'desk-card-lost');
}

for (const v of VARIANTS) {
  test(`the desk hands a card over only after its fee and a document check, and reports loss (${v.name})`, async () => {
    const { lang } = v;
    const { doc, person } = await walkIn('柜台测试');
    await useVariant(desk, v);
    await useVariant(office, v);
    await desk.goto(`${BASE}/desk?q=${person.id}`);
    await check(desk, v, 'desk-customer');
    const cardNo = await instantCardWithPin(desk, v, doc);
    // A holder with an active card is offered a replacement only.
    assert.deepEqual(await desk.locator('#kind option').evaluateAll((os) => os.map((o) => o.value)), ['replacement']);
    await lossAtTheDesk(desk, v, cardNo);

    // The replacement, made at the plain branch, waits in the queue: who, masked, and a link.
    await desk.selectOption('#kind', 'replacement');
    await desk.selectOption('#channel', 'branch');
    await desk.selectOption('#branch', 'ICBC|ICBC-HL');
    await submit(desk, 'form[action="/desk/apply"] button[type=submit]');
    await flash(desk, 'ok');
    await check(desk, v, 'desk-replacement-applied');
    const appId = await desk.locator('.app[data-app]').first().getAttribute('data-app');
    await api(`/applications/${appId}/approve`, clerk, {});
    await api(`/applications/${appId}/produce`, teller, {});
    await api(`/applications/${appId}/ready`, teller, {});
    await desk.goto(`${BASE}/desk`);
    await check(desk, v, 'desk-queue');
    const row = desk.locator(`tr[data-app="${appId}"]`);
    const who = await row.locator('td').first().innerText();
    assert.match(who, /柜\*+/, who);
    assert.match(who, /3502\*+/, who);
    assert.ok(!(await desk.content()).includes(doc), 'the queue shows no full document number');
    assert.equal(await row.locator(`a[href="/desk?q=${person.id}#app-${appId}"]`).count(), 1);

    // Unpaid: not handed over.
    await row.locator(`#holder-${appId}`).fill(doc);
    await submit(desk, `tr[data-app="${appId}"] form[action$="/collect"] button`);
    assert.equal(await flash(desk, 'err'), `✖ ${t(lang, 'error')}: ${t(lang, 'err_fee_unpaid')}`);
    await check(desk, v, 'desk-fee-unpaid');

    // The clerk waives it with a reason, from the desk's queue.
    await office.goto(`${BASE}/desk`);
    await office.fill(`#waive-${appId}`, lang === 'en' ? 'Receives minimum living allowance' : '低保户免收');
    await submit(office, `tr[data-app="${appId}"] form[action$="/fee-waiver"] button`);
    assert.match(await flash(office, 'ok'), new RegExp(t(lang, 'ok_fee_waived')));
    await check(office, v, 'desk-clerk-waived');

    // Another document is refused without telling the registered one; the holder's passes.
    await desk.goto(`${BASE}/desk`);
    // Another birth year (a random one may be 1970 itself).
    const wrong = doc.slice(0, 6) + (doc.slice(6, 10) === '1970' ? '1971' : '1970') + doc.slice(10);
    await desk.locator(`#holder-${appId}`).fill(wrong);
    await submit(desk, `tr[data-app="${appId}"] form[action$="/collect"] button`);
    assert.match(await flash(desk, 'err'), new RegExp(t(lang, 'err_holder_mismatch')));
    assert.ok(!(await desk.content()).includes(doc));
    await check(desk, v, 'desk-wrong-document');
    await desk.locator(`#holder-${appId}`).fill(doc.toLowerCase());
    await submit(desk, `tr[data-app="${appId}"] form[action$="/collect"] button`);
    await flash(desk, 'ok');
    await check(desk, v, 'desk-handed-over');
    const done = await api(`/applications/${appId}`, teller);
    assert.equal(done.status, 'collected');
    assert.ok(done.fee_waiver_reason.length > 0);
  });

  test(`the review queue shows who and a rejection needs a reason (${v.name})`, async () => {
    const { doc, person } = await walkIn('审核测试');
    const app = await api('/applications', teller, { person_id: person.id, kind: 'first', channel: 'branch', bank_code: 'ICBC', branch_code: 'ICBC-HL' });
    await useVariant(office, v);
    await office.goto(`${BASE}/console`);
    const row = office.locator(`tr[data-app="${app.id}"]`);
    const who = await row.locator('td').first().innerText();
    assert.match(who, /审\*+/, who);
    assert.ok(!(await office.content()).includes(doc));
    assert.equal(await row.locator(`a[href="/desk?q=${person.id}#app-${app.id}"]`).count(), 1);
    // The reason is required in the browser...
    await row.locator('form[action$="/reject"] button').click();
    assert.equal(await row.locator(`#reason-${app.id}`).evaluate((el) => el.validity.valueMissing), true);
    const reason = v.lang === 'en' ? 'Photo unclear' : '照片不清晰';
    await row.locator(`#reason-${app.id}`).fill(reason);
    await submit(office, `tr[data-app="${app.id}"] form[action$="/reject"] button`);
    assert.match(await flash(office, 'ok'), new RegExp(t(v.lang, 'st_rejected')));
    await check(office, v, 'console-rejected-with-reason');
    const seen = await api(`/applications/${app.id}`, teller);
    assert.equal(seen.status, 'rejected');
    assert.equal(seen.rejection_reason, reason);
  });
}
