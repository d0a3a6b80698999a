// A clerk uploads an employer's CSV for batch issuance, follows its progress, and
// reads the dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, login, shot, residentId, randomBirth } from '../lib.js';

test('a clerk runs a batch issuance and sees the dashboard', async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser);
    await login(page, 'clerk');
    assert.match(page.url(), /\/console$/);
    const before = Number(await page.getByTestId('persons').innerText());
    await shot(page, 'console-dashboard');
    assert.ok(await page.locator('svg.chart').count() >= 7, 'dashboard charts');
    assert.ok(await page.locator('svg.chart polyline').count() >= 1, 'applications over time');
    assert.ok(await page.getByRole('img', { name: /电子社保卡签发率 \d+%/ }).isVisible(), 'e-card issuance rate');
    // The demo's morning of one-card uses: uses by scenario, and the refused ones.
    assert.ok(await page.getByRole('img', { name: '按场景统计用卡' }).isVisible(), 'uses by scenario');
    const refused = page.getByRole('img', { name: '按场景统计被拒绝的用卡' });
    assert.ok(await refused.isVisible(), 'refused uses by scenario');
    assert.match(await refused.innerHTML(), /公交|交通/, 'the refused taps are charted');

    const rows = ['doc_type,doc_number,name,region'];
    for (let i = 0; i < 12; i++) rows.push(`resident_id,${residentId('350206', randomBirth(), 500 + i)},批量员工${'甲乙丙丁戊己庚辛壬癸子丑'[i]},350206`);
    rows.push('resident_id,350206199001011230,坏号码,350206');
    await page.setInputFiles('#bf', { name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.selectOption('#bb', 'CCB|CCB-HL');
    await page.locator('form[action="/console/batch"] button').click();
    await page.waitForURL(/\/console\/batch\//);
    await page.locator('#batch[data-finished="true"]').waitFor({ timeout: 30000 });
    await shot(page, 'console-batch-done');
    const ok = Number(await page.getByTestId('ok').innerText());
    assert.ok(ok >= 11, `at least 11 of 12 good rows applied (a random birth date may repeat), got ${ok}`);
    assert.match(await page.locator('#batch').innerText(), /line 14/);

    await page.goto(page.url().replace(/\/console\/batch\/.*/, '/console'));
    const after = Number(await page.getByTestId('persons').innerText());
    assert.equal(after - before, ok);
  } finally {
    await browser.close();
  }
});

test('a clerk runs the dormant sweep and sees its result', async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser, { locale: 'en-US' });
    await login(page, 'clerk');
    await page.locator('form[action="/console/jobs/dormant_sweep"] button').click();
    await page.waitForLoadState('networkidle');
    assert.match(await page.locator('.flash.ok').innerText(), /Dormant card sweep: examined \d+, changed \d+/);
  } finally {
    await browser.close();
  }
});
