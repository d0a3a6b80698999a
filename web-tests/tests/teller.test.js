// A teller registers a walk-in customer and makes the card while they wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, launch, newPage, login, shot, residentId, uniqueSeq, randomBirth } from '../lib.js';

async function api(path, token, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

test('a teller makes a card at once at a branch with a printer', async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, 'teller.icbc');
    assert.match(page.url(), /\/desk$/);
    await shot(page, 'desk');

    const id = residentId('350203', randomBirth(), uniqueSeq());
    await page.selectOption('#doc_type', 'resident_id');
    await page.fill('#doc_number', id);
    await page.fill('#name', '测试柜员客户');
    await page.fill('#region', '350203');
    await page.locator('form[action="/desk/register"] button[type=submit]').click();
    await page.waitForLoadState('networkidle');
    assert.ok(await page.locator('.flash.ok').isVisible(), await page.content());
    // The desk never shows the full document number.
    assert.ok(!(await page.content()).includes(id), 'full ID number shown on the desk');

    await page.selectOption('#kind', 'first');
    await page.selectOption('#channel', 'branch_instant');
    await page.selectOption('#branch', 'ICBC|ICBC-SM');
    await page.locator('form[action="/desk/apply"] button[type=submit]').click();
    await page.waitForLoadState('networkidle');
    await shot(page, 'desk-instant-issued');
    const flash = await page.locator('.flash').innerText();
    assert.match(flash, /已即时制卡并发放：卡号 [A-Z]\d{8}（已发放（未启用））/, flash);
    const card = page.locator('tr[data-card]').first();
    assert.equal(await card.getAttribute('data-status'), 'issued');
    const cardNo = await card.getAttribute('data-card');

    // The cardholder sets the PIN on the customer-facing page, twice.
    await page.locator(`a[href^="/desk/pin/${cardNo}"]`).click();
    await page.waitForLoadState('networkidle');
    await page.fill('#pin', '739164');
    await page.fill('#pin_confirmation', '739164');
    await page.locator('form[action^="/desk/pin/"] button[type=submit]').click();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
    await shot(page, 'desk-activated');

    // The card is lost; the replacement costs 20 yuan, collected once at the desk.
    const teller = (await api('/auth/login', null, { username: 'teller.icbc', password: PASSWORD })).token;
    const clerk = (await api('/auth/login', null, { username: 'clerk', password: PASSWORD })).token;
    const personId = await page.locator('[data-person]').getAttribute('data-person');
    await api(`/cards/${cardNo}/report-lost`, teller, {});
    const app = await api('/applications', teller, { person_id: personId, kind: 'replacement', reason: 'lost', channel: 'branch', bank_code: 'ICBC', branch_code: 'ICBC-HL' });
    assert.equal(app.fee_fen, 2000);
    await api(`/applications/${app.id}/approve`, clerk, {});
    await page.reload();
    const row = page.locator(`tr[data-app="${app.id}"]`);
    await row.locator(`form[action="/desk/applications/${app.id}/fee"] button`).click();
    await page.waitForLoadState('networkidle');
    assert.match(await page.locator('.flash').innerText(), /已收取补卡费 20\.00 元/);
    assert.equal(await page.locator(`tr[data-app="${app.id}"] form[action$="/fee"]`).count(), 0, 'collected once');
    assert.ok(await page.locator(`tr[data-app="${app.id}"] .badge.active`).isVisible());
    await shot(page, 'desk-fee-collected');
  } finally {
    await browser.close();
  }
});

test('the desk refuses a wrong check character with a clear message and changes nothing', async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser, { locale: 'en-US' });
    await login(page, 'teller.icbc');
    const good = residentId('350203', '19851010', 321);
    const bad = good.slice(0, 17) + (good[17] === '1' ? '2' : '1');
    await page.fill('#doc_number', bad);
    await page.fill('#name', 'Bad Number');
    await page.locator('form[action="/desk/register"] button[type=submit]').click();
    await page.waitForLoadState('networkidle');
    const err = await page.locator('.flash.err').innerText();
    assert.match(err, /check/i, err);
    await page.goto(`${BASE}/desk?q=${bad}`);
    assert.ok(await page.locator('.flash.err').isVisible(), 'the refused person must not exist');
  } finally {
    await browser.close();
  }
});
