// Family service (亲情服务): a holder lets a relative show their e-card QR code, then revokes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, launch, newPage, login, shot } from '../lib.js';

async function api(path, { token, body } = {}) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

test('a holder authorizes a relative, who shows the QR code until it is revoked', async () => {
  // The relative's social security number, as the holder would know it (read here through the API).
  const relative = await api('/auth/login', { body: { username: 'holder1', password: PASSWORD } });
  const admin = await api('/auth/login', { body: { username: 'admin', password: PASSWORD } });
  const relativePerson = await api(`/persons/${relative.person_id}`, { token: admin.token });
  const granter = await api('/auth/login', { body: { username: 'holder2', password: PASSWORD } });

  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, 'holder2');
    await page.fill('#fam', relativePerson.ssn);
    await page.locator('form[action="/portal/authorizations/family"] button').click();
    await page.waitForLoadState('networkidle');
    assert.ok(await page.locator('.flash.ok').isVisible(), await page.locator('main').innerText());
    assert.ok(!(await page.content()).includes(relativePerson.ssn), 'the relative\'s number is not shown back');
    const auth = page.locator('li[data-auth]', { hasText: relative.person_id });
    assert.equal(await auth.count(), 1);

    const rel = await newPage(browser);
    await login(rel, 'holder1');
    const item = rel.locator(`li[data-relative="${granter.person_id}"]`);
    await item.locator('button').click();
    await rel.locator(`#qr-of-${granter.person_id} #qr figure svg`).waitFor();
    assert.match(await rel.locator(`#qr-of-${granter.person_id} #qr`).getAttribute('data-token'), /^SSC1\./);
    await shot(rel, 'portal-family-qr');

    await auth.locator('button').click();
    await page.waitForLoadState('networkidle');
    await rel.reload();
    assert.equal(await rel.locator(`li[data-relative="${granter.person_id}"]`).count(), 0, 'revoked: no longer listed');
    // And the API refuses the relative's QR request now.
    const res = await fetch(`${BASE}/api/v1/ecard/qr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${relative.token}` },
      body: JSON.stringify({ person_id: granter.person_id }),
    });
    assert.equal(res.status, 403);
  } finally {
    await browser.close();
  }
});
