// A clerk uploads an employer's CSV for batch issuance, follows its progress, reads the
// dashboard and runs the dormant sweep. In Chinese and English, at desktop and phone sizes,
// with one login; every page reached is judged by `check`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, login, residentId, randomBirth, VARIANTS, useVariant, check, submit, t, tRe } from '../lib.js';

let browser; let page;
before(async () => {
  browser = await launch();
  page = await newPage(browser);
  await login(page, 'clerk');
  assert.match(page.url(), /\/console$/);
});
after(() => browser?.close());

for (const [i, v] of VARIANTS.entries()) {
  test(`a clerk runs a batch issuance and sees the dashboard (${v.name})`, async () => {
    const { lang } = v;
    await useVariant(page, v);
    await page.goto(`${BASE}/console`);
    const before = Number(await page.getByTestId('persons').innerText());
    await check(page, v, 'console-dashboard');
    assert.ok(await page.locator('svg.chart').count() >= 7, 'dashboard charts');
    assert.ok(await page.locator('svg.chart polyline').count() >= 1, 'applications over time');
    assert.ok(await page.getByRole('img', { name: new RegExp(`^${t(lang, 'ecard_rate')} \\d+%$`) }).isVisible(), 'e-card issuance rate');
    // The demo's morning of one-card uses: uses by scenario, and the refused ones.
    assert.ok(await page.getByRole('img', { name: t(lang, 'usage_by_scenario'), exact: true }).isVisible(), 'uses by scenario');
    const refused = page.getByRole('img', { name: t(lang, 'usage_refused_by_scenario'), exact: true });
    assert.ok(await refused.isVisible(), 'refused uses by scenario');
    assert.ok((await refused.locator('text').allTextContents()).includes(t(lang, 'sc_transit')), 'the refused taps are charted');

    const rows = ['doc_type,doc_number,name,region'];
    for (let n = 0; n < 12; n++) rows.push(`resident_id,${residentId('350206', randomBirth(), 100 * i + 500 + n)},批量员工${'甲乙丙丁戊己庚辛壬癸子丑'[n]},350206`);
    rows.push('resident_id,350206199001011230,坏号码,350206');
    await page.setInputFiles('#bf', { name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.selectOption('#bb', 'CCB|CCB-HL');
    await page.locator('form[action="/console/batch"] button').click();
    await page.waitForURL(/\/console\/batch\//);
    await page.locator('#batch[data-finished="true"]').waitFor({ timeout: 30000 });
    await check(page, v, 'console-batch-done');
    const ok = Number(await page.getByTestId('ok').innerText());
    assert.ok(ok >= 11, `at least 11 of 12 good rows applied (a random birth date may repeat), got ${ok}`);
    // The bad line is named by its number, in the page's language.
    assert.match(await page.locator('#batch li').first().innerText(), /14/);

    await page.goto(`${BASE}/console`);
    const after = Number(await page.getByTestId('persons').innerText());
    assert.equal(after - before, ok);
  });

  test(`a clerk runs the dormant sweep and sees its result (${v.name})`, async () => {
    await useVariant(page, v);
    await page.goto(`${BASE}/console`);
    await submit(page, 'form[action="/console/jobs/dormant_sweep"] button');
    assert.match(await page.locator('.flash.ok').innerText(), tRe(v.lang, 'ok_job', { job: t(v.lang, 'dormant_sweep') }));
    await check(page, v, 'console-job-done');
  });
}
