// Cross-province services (跨省通办) in a small nation (run.sh: a hub, deployments XM and FZ,
// their own nats-server): a teller at XM serves a walk-in whose card FZ holds (look up, temporary
// loss, lift, formal loss, a mailed replacement and its production progress); a holder living
// in Xiamen activates, suspends, lifts and reports lost the card FZ made, then applies by mail
// and follows it, in elder mode on the phone; a clerk at XM stops a card FZ holds. Each in
// Chinese and English at desktop and phone sizes, every page judged by `check` (words of the
// page's language, axe, phone overflow, no full number the viewer may not see); FZ's own API
// shows that the card really changed there. The demo server is a deployment on its own: its
// cross-province pages say plainly that there are none, and nothing breaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, newPage, login, VARIANTS, useVariant, check, submit, apiAt, token, residentId, randomBirth, t, tRe,
} from '../lib.js';

const XM = process.env.SSCARD_NATION_XM;
const FZ = process.env.SSCARD_NATION_FZ;
const SKIP = !XM || !FZ ? 'no nation (run through web-tests/run.sh)' : false;
/** The PIN FZ's own teller sets for cards the flows find active (never typed in a browser). */
const SETUP_PIN = '582937';

let browser; let desk; let office; let tokens; let seq = 100;
const alone = {};
before(async () => {
  browser = await launch();
  // The demo server, a deployment on its own: a teller, a holder and a clerk.
  for (const [who, username] of [['desk', 'teller.icbc'], ['holder', 'holder1'], ['clerk', 'clerk']]) {
    alone[who] = await newPage(browser);
    await login(alone[who], username);
  }
  if (SKIP) return;
  tokens = {
    xm: { teller: await token('teller', XM), clerk: await token('clerk', XM), admin: await token('admin', XM) },
    fz: { teller: await token('teller', FZ), clerk: await token('clerk', FZ), admin: await token('admin', FZ) },
  };
  desk = await newPage(browser);
  await login(desk, 'teller', XM);
  office = await newPage(browser);
  await login(office, 'clerk', XM);
  // Formal loss, the lift of a loss and a stop ask first: the person at the counter confirms.
  for (const p of [desk, office]) p.on('dialog', (d) => d.accept());
});
after(() => browser?.close());

const items = (x) => (Array.isArray(x) ? x : x.items);

/** FZ's card of a person, by its own API. */
async function fzCard(personId) {
  const [card] = items(await apiAt(FZ, `/persons/${personId}/cards`, tokens.fz.admin));
  return card;
}

/**
 * A person of Fuzhou with a card FZ made at once (issued; active with `active`); with `holder`
 * they also live in Xiamen now: registered at XM with a holder login there. Waits until the
 * nation routes a look-up of their SSN from XM to FZ.
 */
async function fuzhouPerson(name, { active = true, holder = false } = {}) {
  seq += 1;
  const doc = residentId('350102', randomBirth(), seq);
  const person = await apiAt(FZ, '/persons', tokens.fz.teller, { doc_type: 'resident_id', doc_number: doc, name, region: '350102' });
  await apiAt(FZ, '/applications', tokens.fz.teller, { person_id: person.id, kind: 'first', channel: 'branch_instant', bank_code: 'ICBC', branch_code: 'ICBC-FZ' });
  const card = await fzCard(person.id);
  assert.equal(card.status, 'issued');
  if (active) await apiAt(FZ, `/cards/${card.card_no}/activate`, tokens.fz.teller, { pin: SETUP_PIN });
  let username;
  if (holder) {
    const here = await apiAt(XM, '/persons', tokens.xm.teller, { doc_type: 'resident_id', doc_number: doc, name, region: '350203' });
    username = `nation.${process.pid}.${seq}`;
    await apiAt(XM, '/users', tokens.xm.admin, { username, password: 'sscard-demo', role: 'holder', person_id: here.id });
  }
  for (let i = 0; ; i++) {
    const res = await fetch(`${XM}/api/v1/national/persons/${doc}`, { headers: { authorization: `Bearer ${tokens.xm.clerk}` } });
    if (res.ok && (await res.json()).deployment === 'FZ') break;
    assert.ok(i < 100, `the nation does not route ${name} to FZ: ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { doc, person, cardNo: card.card_no, username };
}

async function flash(page, kind) {
  const el = page.locator(`.flash.${kind}`);
  assert.ok(await el.isVisible(), `no ${kind} message: ${await page.locator('main').innerText()}`);
  return el.innerText();
}

/** The national card row's status on the page (one card per person here). */
const rowStatus = (page) => page.locator('tr[data-nat-card]').first().getAttribute('data-status');

/** A mailed replacement from a national page to FZ (Fuzhou, the insured region); answers the
 * message the page gave. After a formal loss nobody in the nation holds the person any more
 * (a lost card can never be live again), so the region names the deployment that takes it. */
async function mailedReplacement(page, v) {
  await page.selectOption('#nat-kind', 'replacement');
  await page.selectOption('#nat-reason', 'lost');
  await page.selectOption('#nat-bank', 'ICBC');
  await page.fill('#nat-region', '350102');
  await page.fill('#nat-addr', '福建省厦门市思明区跨省路2号');
  await submit(page, 'form[action$="/national/apply"] button');
  return flash(page, 'ok');
}

/** FZ's applications of a person, by its own API. */
const fzApps = async (personId) => items(await apiAt(FZ, `/applications?person_id=${personId}`, tokens.fz.admin));

for (const v of VARIANTS) {
  test(`a teller at XM serves a walk-in whose card FZ holds (${v.name})`, { skip: SKIP }, async () => {
    const { lang } = v;
    const p = await fuzhouPerson('跨省客户');
    await useVariant(desk, v);
    await desk.goto(`${XM}/desk`);
    await submit(desk, `a[href="/desk/national"]`);
    assert.equal(await desk.locator('h1').innerText(), t(lang, 'nat_title'));
    await desk.fill('#nat-ssn', p.doc);
    await submit(desk, 'form[action="/desk/national"] button');
    assert.equal(await desk.getByTestId('deployment').innerText(), 'FZ');
    assert.equal(await rowStatus(desk), 'active');
    assert.ok(!(await desk.content()).includes(p.doc), 'the SSN the teller typed is shown masked only');
    assert.ok(!desk.url().includes(p.doc), 'nor carried in the address');
    await check(desk, v, 'nation-desk-found');

    await submit(desk, 'form[action="/desk/national/cards/suspend"] button');
    assert.match(await flash(desk, 'ok'), tRe(lang, 'nat_ok_card', { deployment: 'FZ', status: t(lang, 'st_suspended') }));
    assert.equal(await rowStatus(desk), 'suspended');
    assert.equal((await fzCard(p.person.id)).status, 'suspended', 'suspended at FZ');
    await check(desk, v, 'nation-desk-suspended');
    await submit(desk, 'form[action="/desk/national/cards/unsuspend"] button');
    assert.equal(await rowStatus(desk), 'active');
    await submit(desk, 'form[action="/desk/national/cards/report-lost"] button');
    assert.match(await flash(desk, 'ok'), tRe(lang, 'nat_ok_card', { deployment: 'FZ', status: t(lang, 'st_lost') }));
    assert.equal((await fzCard(p.person.id)).status, 'lost', 'reported lost at FZ');
    await check(desk, v, 'nation-desk-lost');

    // The mailed replacement, then its production progress at FZ: staff see who took each step,
    // this teller named with their deployment.
    assert.match(await mailedReplacement(desk, v), tRe(lang, 'nat_ok_applied', { deployment: 'FZ', status: t(lang, 'st_submitted') }));
    assert.match(new URL(desk.url()).pathname, /^\/desk\/national\/applications\/FZ\//);
    const [app] = await fzApps(p.person.id).then((a) => a.filter((x) => x.channel === 'cross_province'));
    assert.equal(await desk.locator(`[data-nat-app="${app.id}"]`).getAttribute('data-status'), 'submitted');
    assert.match(await desk.locator('.timeline').innerText(), /XM\/teller/);
    await check(desk, v, 'nation-desk-progress');
    await desk.goto(`${XM}/desk/national`);
    await submit(desk, 'form[action="/desk/national/done"] button');
    assert.equal(await desk.locator('[data-serving]').count(), 0, 'the next customer starts afresh');
  });

  test(`a holder in Xiamen serves their own card that FZ holds, in elder mode on the phone (${v.name})`, { skip: SKIP }, async () => {
    const { lang } = v;
    const p = await fuzhouPerson('异地持卡人', { active: false, holder: true });
    const page = await newPage(browser, { phone: v.phone, locale: lang });
    page.on('dialog', (d) => d.accept());
    try {
      await login(page, p.username, XM);
      await useVariant(page, v, { elder: v.phone });
      await page.goto(`${XM}/portal`);
      await submit(page, 'a[href="/portal/national"]');
      assert.equal(await page.getByTestId('deployment').innerText(), 'FZ');
      assert.equal(await rowStatus(page), 'issued');
      if (v.phone) {
        assert.match(await page.locator('body').getAttribute('class'), /elder/);
        assert.ok(await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize)) >= 22, 'elder type size');
      }
      await check(page, v, `nation-portal-issued${v.phone ? '-elder' : ''}`);

      // Activation: two different PINs are not sent; the same one twice is, to FZ.
      await page.fill('#nat-pin-1', '739164');
      await page.fill('#nat-pin2-1', '739146');
      await page.locator('form[action="/portal/national/cards/activate"] button').click();
      const mismatch = await page.locator('#nat-pin2-1').evaluate((el) => [el.validity.valid, el.validationMessage]);
      assert.deepEqual(mismatch, [false, t(lang, 'err_pin_mismatch')]);
      await page.fill('#nat-pin-1', '739164');
      await page.fill('#nat-pin2-1', '739164');
      await submit(page, 'form[action="/portal/national/cards/activate"] button');
      assert.match(await flash(page, 'ok'), tRe(lang, 'nat_ok_card', { deployment: 'FZ', status: t(lang, 'st_active') }));
      assert.equal((await fzCard(p.person.id)).status, 'active', 'activated at FZ');
      assert.ok(!(await page.content()).includes('739164'), 'the PIN is never shown');
      await check(page, v, `nation-portal-active${v.phone ? '-elder' : ''}`);

      await submit(page, 'form[action="/portal/national/cards/suspend"] button');
      assert.equal(await rowStatus(page), 'suspended');
      assert.equal((await fzCard(p.person.id)).status, 'suspended');
      await submit(page, 'form[action="/portal/national/cards/unsuspend"] button');
      assert.equal(await rowStatus(page), 'active');
      await submit(page, 'form[action="/portal/national/cards/report-lost"] button');
      assert.match(await flash(page, 'ok'), tRe(lang, 'nat_ok_card', { deployment: 'FZ', status: t(lang, 'st_lost') }));
      assert.equal((await fzCard(p.person.id)).status, 'lost');
      await check(page, v, `nation-portal-lost${v.phone ? '-elder' : ''}`);

      // A mailed replacement; once FZ approved it, it is listed with its production progress.
      assert.match(await mailedReplacement(page, v), tRe(lang, 'nat_ok_applied', { deployment: 'FZ', status: t(lang, 'st_submitted') }));
      const [app] = await fzApps(p.person.id).then((a) => a.filter((x) => x.channel === 'cross_province'));
      await apiAt(FZ, `/applications/${app.id}/approve`, tokens.fz.clerk, {});
      await page.goto(`${XM}/portal/national`);
      const listed = page.locator(`li[data-nat-app="${app.id}"]`);
      assert.equal(await listed.count(), 1, `listed once FZ approved it: ${await page.locator('main').innerText()}`);
      assert.equal(await listed.getAttribute('data-status'), 'approved');
      await submit(page, `li[data-nat-app="${app.id}"] a`);
      assert.equal(await page.locator(`[data-nat-app="${app.id}"]`).getAttribute('data-status'), 'approved');
      assert.equal(await page.locator('.timeline li').count(), 2, 'submitted, approved');
      // A holder sees when each step was taken, not by which staff login.
      assert.doesNotMatch(await page.locator('.timeline').innerText(), /\/|teller|clerk/);
      await check(page, v, `nation-portal-progress${v.phone ? '-elder' : ''}`);
    } finally {
      await page.context().close();
    }
  });

  test(`a clerk at XM stops a card FZ holds, with a reason (${v.name})`, { skip: SKIP }, async () => {
    const { lang } = v;
    const p = await fuzhouPerson('跨省停用');
    await useVariant(office, v);
    await office.goto(`${XM}/console`);
    await office.fill('#nsc', p.doc);
    await office.fill('#nsr', lang === 'en' ? 'moved to Xiamen' : '迁入厦门');
    await submit(office, 'form[action="/console/national/stop"] button');
    assert.match(await flash(office, 'ok'), tRe(lang, 'nat_ok_card', { deployment: 'FZ', status: t(lang, 'st_stopped') }));
    assert.equal((await fzCard(p.person.id)).status, 'stopped', 'stopped at FZ');
    assert.ok(!(await office.content()).includes(p.doc), 'the SSN typed is not sent back');
    await check(office, v, 'nation-console-stopped');
  });
}

// ---- A deployment on its own ------------------------------------------------------------------

for (const v of VARIANTS) {
  test(`a deployment on its own says plainly that there are no cross-province services (${v.name})`, async () => {
    for (const [page, url, name] of [[alone.desk, '/desk/national', 'alone-desk'], [alone.holder, '/portal/national', 'alone-portal']]) {
      await useVariant(page, v, { elder: page === alone.holder && v.phone });
      const res = await page.goto(`${BASE}${url}`);
      assert.equal(res.status(), 200);
      assert.equal(await page.getByTestId('not-in-nation').innerText(), t(v.lang, 'err_not_in_a_nation'));
      assert.equal(await page.locator('form[action*="/national"]').count(), 0, 'no form that could only fail');
      await check(page, v, name);
    }
    await useVariant(alone.clerk, v);
    await alone.clerk.goto(`${BASE}/console`);
    assert.equal(await alone.clerk.getByTestId('not-in-nation').innerText(), t(v.lang, 'err_not_in_a_nation'));
    assert.equal(await alone.clerk.locator('form[action="/console/national/stop"]').count(), 0);
  });
}
