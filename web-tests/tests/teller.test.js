// A teller registers a walk-in customer, makes the card while they wait, and takes the
// replacement fee in cash; a mistyped document number is explained. In Chinese and English,
// at desktop and phone sizes; every page reached is judged by `check`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newPage, login, residentId, uniqueSeq, randomBirth, VARIANTS, useVariant, check, submit, api, token, t, tRe,
  customerSetsPin,
} from '../lib.js';

let browser; let desk; let teller; let clerk;
before(async () => {
  browser = await launch();
  [teller, clerk] = [await token('teller.icbc'), await token('clerk')];
  desk = await newPage(browser);
  await login(desk, 'teller.icbc');
});
after(() => browser?.close());

for (const v of VARIANTS) {
  test(`a teller registers a walk-in, makes a card at once and takes the replacement fee (${v.name})`, async () => {
    const { lang } = v;
    await useVariant(desk, v);
    await desk.goto(`${BASE}/desk`);
    assert.equal(await desk.locator('h1').first().innerText(), t(lang, 'desk'));
    await check(desk, v, 'desk');

    const id = residentId('350203', randomBirth(), uniqueSeq());
    await desk.selectOption('#doc_type', 'resident_id');
    await desk.fill('#doc_number', id);
    await desk.fill('#name', '测试柜员客户');
    await desk.fill('#region', '350203');
    await submit(desk, 'form[action="/desk/register"] button[type=submit]');
    assert.match(await desk.locator('.flash.ok').innerText(), tRe(lang, 'ok_registered'));
    // The desk never shows the full document number.
    assert.ok(!(await desk.content()).includes(id), 'full ID number shown on the desk');
    await check(desk, v, 'desk-registered');

    await desk.selectOption('#kind', 'first');
    await desk.selectOption('#channel', 'branch_instant');
    await desk.selectOption('#branch', 'ICBC|ICBC-SM');
    await submit(desk, 'form[action="/desk/apply"] button[type=submit]');
    assert.match(await desk.locator('.flash').innerText(), tRe(lang, 'ok_instant', { status: t(lang, 'st_issued') }));
    const card = desk.locator('tr[data-card]').first();
    assert.equal(await card.getAttribute('data-status'), 'issued');
    const cardNo = await card.getAttribute('data-card');

    // The cardholder sets the PIN twice on the customer screen (handover.test.js walks it in full).
    await customerSetsPin(browser, desk, cardNo, '739164');
    await submit(desk, `main a[href^="/desk?q="]`);
    assert.equal(await desk.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');

    // The card is lost; the replacement costs 20 yuan, collected once at the desk.
    const personId = await desk.locator('[data-person]').getAttribute('data-person');
    await api(`/cards/${cardNo}/report-lost`, teller, {});
    const app = await api('/applications', teller, { person_id: personId, kind: 'replacement', reason: 'lost', channel: 'branch', bank_code: 'ICBC', branch_code: 'ICBC-HL' });
    assert.equal(app.fee_fen, 2000);
    await api(`/applications/${app.id}/approve`, clerk, {});
    await desk.reload();
    await check(desk, v, 'desk-fee-due');
    await submit(desk, `tr[data-app="${app.id}"] form[action="/desk/applications/${app.id}/fee"] button`);
    assert.match(await desk.locator('.flash').innerText(), tRe(lang, 'ok_fee', { yuan: '20.00' }));
    assert.equal(await desk.locator(`tr[data-app="${app.id}"] form[action$="/fee"]`).count(), 0, 'collected once');
    assert.ok(await desk.locator(`tr[data-app="${app.id}"] .badge.active`).isVisible());
    await check(desk, v, 'desk-fee-collected');
  });

  test(`the desk refuses a wrong check character in the page's language and changes nothing (${v.name})`, async () => {
    await useVariant(desk, v);
    await desk.goto(`${BASE}/desk`);
    const good = residentId('350203', '19851010', 321);
    const got = good[17] === '1' ? '2' : '1';
    const bad = good.slice(0, 17) + got;
    await desk.fill('#doc_number', bad);
    await desk.fill('#name', '校验位测试');
    await submit(desk, 'form[action="/desk/register"] button[type=submit]');
    const err = await desk.locator('.flash.err').innerText();
    assert.match(err, tRe(v.lang, 'err_doc_check_char', { expected: good[17], got }), err);
    await check(desk, v, 'desk-check-character');
    await desk.goto(`${BASE}/desk?q=${bad}`);
    assert.ok(await desk.locator('.flash.err').isVisible(), 'the refused person must not exist');
  });
}
