// The desk as a teller and a clerk need it: a card handed over only after its fee (paid or
// waived by the card office) and a check of the collector's document; loss at the desk; the
// customer typing their own PIN twice; forms that start on what works; rejections with reasons.
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

const token = async (username) => (await api('/auth/login', null, { username, password: PASSWORD })).token;

async function flash(page, kind) {
  const el = page.locator(`.flash.${kind}`);
  assert.ok(await el.isVisible(), `no ${kind} message: ${await page.content()}`);
  return el.innerText();
}

async function submit(page, selector) {
  await page.locator(selector).click();
  await page.waitForLoadState('networkidle');
}

test('the desk hands a card over only after its fee and a document check, and reports loss', async () => {
  const browser = await launch();
  try {
    const teller = await token('teller.icbc');
    const clerk = await token('clerk');
    const doc = residentId('350203', randomBirth(), uniqueSeq());
    const person = await api('/persons', teller, { doc_type: 'resident_id', doc_number: doc, name: '柜台测试', region: '350203' });

    const page = await newPage(browser);
    await login(page, 'teller.icbc');
    await page.goto(`${BASE}/desk?q=${person.id}`);
    // A person without a card is offered a first card or a temporary one, at a printer branch.
    const kinds = await page.locator('#kind option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(kinds, ['first', 'temporary']);
    const branch = await page.locator('#branch').inputValue();
    assert.equal(branch, 'ICBC|ICBC-SM', 'an instant card starts on the branch with a printer');
    await page.selectOption('#channel', 'branch_instant');
    await submit(page, 'form[action="/desk/apply"] button[type=submit]');
    await flash(page, 'ok');
    const card = page.locator('tr[data-card]').first();
    const cardNo = await card.getAttribute('data-card');
    assert.equal(await card.getAttribute('data-status'), 'issued');

    // The teller's page has no PIN field; the customer types it twice on their own page.
    assert.equal(await page.locator('input[name=pin]').count(), 0, 'no PIN field on the teller page');
    await page.locator(`a[href^="/desk/pin/${cardNo}"]`).click();
    await page.waitForLoadState('networkidle');
    await shot(page, 'desk-customer-pin');
    assert.ok(!(await page.content()).includes(doc), 'the PIN page shows no personal data');
    await page.fill('#pin', '739164');
    await page.fill('#pin_confirmation', '739146');
    await page.locator('form[action^="/desk/pin/"] button[type=submit]').click();
    assert.match(page.url(), /\/desk\/pin\//, 'two different PINs are not sent');
    assert.equal(await page.locator('#pin_confirmation').evaluate((el) => el.validity.valid), false);
    await page.fill('#pin_confirmation', '739164');
    await submit(page, 'form[action^="/desk/pin/"] button[type=submit]');
    await flash(page, 'ok');
    assert.equal(await page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
    // A holder with an active card is offered a replacement only.
    const after = await page.locator('#kind option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(after, ['replacement']);

    // Temporary loss, its lift and formal loss at the desk; the last two ask first.
    page.on('dialog', (d) => d.accept());
    await submit(page, `form[action="/desk/cards/${cardNo}/suspend"] button`);
    assert.equal(await page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'suspended');
    assert.equal(await page.locator(`form[action="/desk/cards/${cardNo}/unsuspend"][data-confirm]`).count(), 1);
    await submit(page, `form[action="/desk/cards/${cardNo}/unsuspend"] button`);
    assert.equal(await page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'active');
    assert.equal(await page.locator(`form[action="/desk/cards/${cardNo}/report-lost"][data-confirm]`).count(), 1);
    await submit(page, `form[action="/desk/cards/${cardNo}/report-lost"] button`);
    assert.equal(await page.locator(`tr[data-card="${cardNo}"]`).getAttribute('data-status'), 'lost');
    await shot(page, 'desk-card-lost');

    // The replacement, made at the plain branch, waits in the queue: who, masked, and a link.
    await page.selectOption('#kind', 'replacement');
    await page.selectOption('#channel', 'branch');
    await page.selectOption('#branch', 'ICBC|ICBC-HL');
    await submit(page, 'form[action="/desk/apply"] button[type=submit]');
    await flash(page, 'ok');
    const appId = await page.locator('.app[data-app]').first().getAttribute('data-app');
    await api(`/applications/${appId}/approve`, clerk, {});
    await api(`/applications/${appId}/produce`, teller, {});
    await api(`/applications/${appId}/ready`, teller, {});
    await page.goto(`${BASE}/desk`);
    const row = page.locator(`tr[data-app="${appId}"]`);
    const who = await row.locator('td').first().innerText();
    assert.match(who, /柜\*+/, who);
    assert.match(who, /3502\*+/, who);
    assert.ok(!(await page.content()).includes(doc), 'the queue shows no full document number');
    assert.equal(await row.locator(`a[href="/desk?q=${person.id}#app-${appId}"]`).count(), 1);

    // Unpaid: not handed over.
    await row.locator(`#holder-${appId}`).fill(doc);
    await submit(page, `tr[data-app="${appId}"] form[action$="/collect"] button`);
    assert.match(await flash(page, 'err'), /补卡费|fee/);

    // The clerk waives it with a reason, from the desk's queue.
    const office = await newPage(browser);
    await login(office, 'clerk');
    await office.goto(`${BASE}/desk`);
    await office.fill(`#waive-${appId}`, '低保户免收');
    await submit(office, `tr[data-app="${appId}"] form[action$="/fee-waiver"] button`);
    await flash(office, 'ok');

    // Another document is refused without telling the registered one; the holder's passes.
    await page.goto(`${BASE}/desk`);
    const wrong = doc.slice(0, 6) + '1970' + doc.slice(10);
    await page.locator(`#holder-${appId}`).fill(wrong);
    await submit(page, `tr[data-app="${appId}"] form[action$="/collect"] button`);
    assert.match(await flash(page, 'err'), /证件号码/);
    assert.ok(!(await page.content()).includes(doc));
    await page.locator(`#holder-${appId}`).fill(doc.toLowerCase());
    await submit(page, `tr[data-app="${appId}"] form[action$="/collect"] button`);
    await flash(page, 'ok');
    await shot(page, 'desk-handed-over');
    const done = await api(`/applications/${appId}`, teller);
    assert.equal(done.status, 'collected');
    assert.equal(done.fee_waiver_reason, '低保户免收');
  } finally {
    await browser.close();
  }
});

test('the review queue shows who and a rejection needs a reason', async () => {
  const browser = await launch();
  try {
    const teller = await token('teller.icbc');
    const doc = residentId('350203', randomBirth(), uniqueSeq());
    const person = await api('/persons', teller, { doc_type: 'resident_id', doc_number: doc, name: '审核测试', region: '350203' });
    const app = await api('/applications', teller, { person_id: person.id, kind: 'first', channel: 'branch', bank_code: 'ICBC', branch_code: 'ICBC-HL' });
    const page = await newPage(browser, { locale: 'en-US' });
    await login(page, 'clerk');
    await page.goto(`${BASE}/console`);
    const row = page.locator(`tr[data-app="${app.id}"]`);
    const who = await row.locator('td').first().innerText();
    assert.match(who, /审\*+/, who);
    assert.ok(!(await page.content()).includes(doc));
    assert.equal(await row.locator(`a[href="/desk?q=${person.id}#app-${app.id}"]`).count(), 1);
    // The reason is required in the browser...
    await row.locator(`form[action$="/reject"] button`).click();
    assert.equal(await row.locator(`#reason-${app.id}`).evaluate((el) => el.validity.valueMissing), true);
    await row.locator(`#reason-${app.id}`).fill('Photo unclear');
    await submit(page, `tr[data-app="${app.id}"] form[action$="/reject"] button`);
    await flash(page, 'ok');
    await shot(page, 'console-rejected-with-reason');
    const seen = await api(`/applications/${app.id}`, teller);
    assert.equal(seen.status, 'rejected');
    assert.equal(seen.rejection_reason, 'Photo unclear');
  } finally {
    await browser.close();
  }
});
