// No full document number or SSN reaches someone who may not see it (DESIGN §8, issue 14):
// `check` (on every page a flow reaches) and the crawl judge each page against MAY_SEE_FULL in
// lib.js. Here: the finder and the table themselves (they must be able to fail), and the pages
// where someone sees other people: a teller of another bank at the desk, a holder whose relative
// is named, a payer's batch lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newPage, login, VARIANTS, useVariant, check, api, token, residentId, uniqueSeq, randomBirth,
  fullNumbers, fullNumberLeaks, maySee, MAY_SEE_FULL, loggedOut,
} from '../lib.js';

let browser; let other; let own; let holder; let payer; let walkIn;
before(async () => {
  browser = await launch();
  // A walk-in served by ICBC only (registered and applying there).
  const icbc = await token('teller.icbc');
  const doc = residentId('350203', randomBirth(), uniqueSeq());
  const person = await api('/persons', icbc, { doc_type: 'resident_id', doc_number: doc, name: '工行客户', region: '350203' });
  await api('/applications', icbc, { person_id: person.id, kind: 'first', channel: 'branch', bank_code: 'ICBC', branch_code: 'ICBC-HL' });
  walkIn = { doc, person };
  [other, own, holder, payer] = await Promise.all([newPage(browser), newPage(browser), newPage(browser), newPage(browser)]);
  await login(other, 'teller.cmb');
  await login(own, 'teller.icbc');
  await login(holder, 'holder2');
  await login(payer, 'pf.xm');
});
after(() => browser?.close());

test('the finder takes full ID-shaped numbers and assigned SSNs, not masked forms or other digits', () => {
  const id = residentId('350203', '19480305', 123);
  assert.deepEqual(fullNumbers(`<td>${id}</td>`), [id]);
  assert.deepEqual(fullNumbers(`data-doc="${id.toLowerCase()}"`), [id], 'a lower-case x is the same number');
  assert.deepEqual(fullNumbers('3502**********123X 3502 0319 4803 0512 3'), [], 'masked or split');
  const badCheck = id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
  assert.deepEqual(fullNumbers(`${badCheck} 350203194813301234 1733126400000123456 SSC1.${id}x`), [], 'no check, no date, a time, part of a token');
  assert.deepEqual(fullNumbers('A35020300000000423'), ['A35020300000000423'], 'an assigned SSN');
  assert.deepEqual(fullNumbers('A35020300000000429'), []);
  assert.deepEqual(Object.keys(MAY_SEE_FULL).sort(), ['admin', 'anonymous', 'clerk', 'holder', 'payer', 'teller', 'terminal']);
});

test('the table: own numbers to the holder, the serving bank\'s tellers and the card office; nobody else', async () => {
  const h = await api('/auth/login', null, { username: 'holder1', password: 'sscard-demo' });
  const self = (await api(`/persons/${h.person_id}`, h.token)).ssn;
  const holder1 = { role: 'holder', personId: h.person_id, ssn: self };
  assert.equal(await maySee(holder1, self), true);
  assert.equal(await maySee(holder1, walkIn.doc), false, 'a holder seeing someone else');
  assert.equal(await maySee({ role: 'teller', bank: 'ICBC' }, walkIn.doc), true, 'the serving bank');
  assert.equal(await maySee({ role: 'teller', bank: 'CMB' }, walkIn.doc), false, 'a teller of another bank');
  for (const role of ['clerk', 'admin']) assert.equal(await maySee({ role }, walkIn.doc), true, role);
  for (const role of ['payer', 'terminal', 'anonymous']) assert.equal(await maySee({ role }, self), false, role);
  assert.equal(await maySee(null, self), false, 'a visitor');
});

test('a page showing a full number to someone who may not see it is caught, naming the page', async () => {
  const show = (page) => page.evaluate((n) => { document.querySelector('main').insertAdjacentHTML('beforeend', `<p data-x="${n}">${n}</p>`); }, walkIn.doc);
  const [visitor, clerk, cmb] = [await newPage(browser), await newPage(browser), await newPage(browser)];
  try {
    await visitor.goto(`${BASE}/login`);
    await show(visitor);
    const leaks = await fullNumberLeaks(visitor);
    assert.equal(leaks.length, 1, leaks.join('\n'));
    assert.match(leaks[0], /shown to a visitor on \/login/);
    assert.ok(!leaks[0].includes(walkIn.doc), 'the report itself does not carry the number');
    await login(clerk, 'clerk');
    await show(clerk);
    assert.deepEqual(await fullNumberLeaks(clerk), [], 'the card office sees full numbers');
    await login(cmb, 'teller.cmb');
    await show(cmb);
    assert.match((await fullNumberLeaks(cmb)).join(''), /to teller\.cmb \(teller\) on \/desk/);
    loggedOut(cmb);
    assert.match((await fullNumberLeaks(cmb)).join(''), /to a visitor/, 'after a logout, a visitor');
  } finally {
    for (const p of [visitor, clerk, cmb]) await p.context().close();
  }
});

for (const v of [VARIANTS[0], VARIANTS[3]]) {
  test(`people seen by those who may only see masked forms (${v.name})`, async () => {
    // A teller of another bank finds the ICBC customer: masked only; their own bank's page passes too.
    for (const [page, name] of [[other, 'masked-desk-other-bank'], [own, 'masked-desk-own-bank']]) {
      await useVariant(page, v);
      await page.goto(`${BASE}/desk?q=${walkIn.person.id}`);
      assert.equal(await page.locator(`[data-person="${walkIn.person.id}"]`).count(), 1, name);
      await check(page, v, name);
    }
    assert.deepEqual(fullNumbers(await other.content()), [], 'the other bank\'s desk shows no full number');
    // A holder's portal names their relatives and the staff who looked; a payer's batches list payees.
    await useVariant(holder, v);
    await holder.goto(`${BASE}/portal`);
    await check(holder, v, 'masked-portal');
    await useVariant(payer, v);
    await payer.goto(`${BASE}/console/benefits`);
    await check(payer, v, 'masked-payer-batches');
    const batch = payer.locator('a[href^="/console/benefits/"]').first();
    if (await batch.count()) {
      await batch.click();
      await payer.waitForLoadState('networkidle');
      await check(payer, v, 'masked-payer-batch');
      assert.deepEqual(fullNumbers(await payer.content()), [], 'a payer sees no full number');
    }
  });
}
