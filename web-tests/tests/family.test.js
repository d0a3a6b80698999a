// Family service (亲情服务): a holder lets a relative show their e-card QR code, then revokes
// it. In Chinese and English at desktop and phone sizes, with one login each; pages judged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, launch, newPage, login, VARIANTS, useVariant, check, submit, api, t } from '../lib.js';

let browser; let page; let rel; let relative; let relativePerson; let granter;
before(async () => {
  // The relative's social security number, as the holder would know it (read here through the API).
  relative = await api('/auth/login', null, { username: 'holder1', password: PASSWORD });
  const admin = await api('/auth/login', null, { username: 'admin', password: PASSWORD });
  relativePerson = await api(`/persons/${relative.person_id}`, admin.token);
  granter = await api('/auth/login', null, { username: 'holder2', password: PASSWORD });
  browser = await launch();
  page = await newPage(browser);
  await login(page, 'holder2');
  rel = await newPage(browser);
  await login(rel, 'holder1');
});
after(() => browser?.close());

for (const v of VARIANTS) {
  test(`a holder authorizes a relative, who shows the QR code until it is revoked (${v.name})`, async () => {
    await useVariant(page, v);
    await useVariant(rel, v);
    await page.goto(`${BASE}/portal`);
    await page.fill('#fam', relativePerson.ssn);
    await submit(page, 'form[action="/portal/authorizations/family"] button');
    assert.equal(await page.locator('.flash.ok').innerText(), `✔ ${t(v.lang, 'ok')}: ${t(v.lang, 'ok_family')}`);
    assert.ok(!(await page.content()).includes(relativePerson.ssn), 'the relative\'s number is not shown back');
    await check(page, v, 'portal-family-granted');
    const auth = page.locator('li[data-auth]', { hasText: relative.person_id }).filter({ has: page.locator('button') });
    assert.equal(await auth.count(), 1);

    await rel.goto(`${BASE}/portal`);
    const item = rel.locator(`li[data-relative="${granter.person_id}"]`);
    await item.getByRole('button', { name: t(v.lang, 'show_qr'), exact: true }).click();
    await rel.locator(`#qr-of-${granter.person_id} #qr figure svg`).waitFor();
    assert.match(await rel.locator(`#qr-of-${granter.person_id} #qr`).getAttribute('data-token'), /^SSC1\./);
    await check(rel, v, 'portal-family-qr');

    await auth.locator('button').click();
    await page.waitForLoadState('networkidle');
    await check(page, v, 'portal-family-revoked');
    await rel.reload();
    assert.equal(await rel.locator(`li[data-relative="${granter.person_id}"]`).count(), 0, 'revoked: no longer listed');
    // And the API refuses the relative's QR request now.
    const res = await fetch(`${BASE}/api/v1/ecard/qr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${relative.token}` },
      body: JSON.stringify({ person_id: granter.person_id }),
    });
    assert.equal(res.status, 403);
  });
}
